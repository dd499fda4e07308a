variable "alias" {
  description = "Alias of the key, without the alias/ prefix."
  type        = string
}

variable "description" {
  description = "What the key encrypts."
  type        = string
}

variable "service_statements" {
  description = "Key policy statements for the AWS services (or roles) that use the key, each scoped by a condition."
  type = list(object({
    sid        = string
    principal  = map(string)
    actions    = list(string)
    conditions = optional(map(map(string)), {})
  }))
  default = []
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion completes."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
