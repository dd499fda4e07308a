variable "name" {
  description = "Name of the CodeBuild project (and prefix of its role, security group, key and log group); runs-on labels start with codebuild-<name>-."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$", var.name))
    error_message = "name must be 2-32 letters, digits, hyphens or underscores, starting with a letter or digit (it also names the GitHub connection, at most 32 characters)."
  }
}

variable "repository" {
  description = "GitHub repository (OWNER/REPO) whose queued workflow jobs start a runner."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be OWNER/REPO."
  }
}

variable "vpc_id" {
  description = "VPC the runner runs in (the one whose private EKS endpoint it must reach)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the runner (egress through NAT only, no public address)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids must list at least one private subnet."
  }
}

variable "cluster_security_group_id" {
  description = "Security group of the EKS cluster's API endpoint ENIs; it gets one rule: 443 from the runner's security group."
  type        = string
}

variable "github_connection_authorized" {
  description = "Whether an admin has authorised the GitHub connection (output connection_arn, console: Developer Tools > Connections) yet. The webhook that starts runners needs it, so it is created only once this is true."
  type        = bool
  default     = false
}

variable "compute_type" {
  description = "CodeBuild compute type of a runner (the deploy job builds the image with docker)."
  type        = string
  default     = "BUILD_GENERAL1_MEDIUM"
}

variable "image" {
  description = "CodeBuild image of a runner: Ubuntu-based, where actions/setup-python and setup-node find their prebuilt toolchains."
  type        = string
  default     = "aws/codebuild/standard:7.0"
}

variable "build_timeout_minutes" {
  description = "Longest a runner lives, in minutes (at least the deploy job's timeout-minutes)."
  type        = number
  default     = 60
}

variable "log_retention_days" {
  description = "Retention of the runner's build logs in CloudWatch Logs, in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
