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

variable "availability_zones" {
  description = "Availability zones (names) to spread the subnets and NAT gateways across, one subnet of each kind per zone. An explicit list keeps the network from growing when AWS adds a zone."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 6 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list 2 to 6 distinct zones."
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
