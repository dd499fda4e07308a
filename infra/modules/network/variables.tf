variable "name" {
  description = "Name prefix for every resource of the network."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR block of the VPC (split into one public and one private subnet per zone)."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 20
    error_message = "cidr_block must be a valid IPv4 CIDR of /20 or larger, to hold six subnets."
  }
}

variable "az_count" {
  description = "Number of availability zones to spread the subnets and NAT gateways across."
  type        = number
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6
    error_message = "az_count must be between 2 and 6."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, but a zone outage cuts egress for every node). Production keeps one per zone."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow logs in CloudWatch Logs, in days."
  type        = number
  default     = 365
}

variable "public_subnet_tags" {
  description = "Extra tags for the public subnets (the ALB's)."
  type        = map(string)
  default     = {}
}

variable "private_subnet_tags" {
  description = "Extra tags for the private subnets (the nodes'), e.g. autoscaler discovery tags."
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
