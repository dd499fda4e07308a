variable "account_id" {
  description = "AWS account the state bucket is created in; the provider refuses any other."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the state bucket."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the bucket name (default: <service name>-tfstate); the account ID is appended so the name is globally unique."
  type        = string
  default     = null

  validation {
    condition     = var.name_prefix == null || can(regex("^[a-z0-9][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be 3-41 lowercase letters, digits or hyphens."
  }
}

variable "environment" {
  description = "Environment whose state key backend_config names (the root's environment variable)."
  type        = string
  default     = "production"
}

variable "noncurrent_version_retention_days" {
  description = "Days old state versions are kept (how far back a state can be restored)."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
