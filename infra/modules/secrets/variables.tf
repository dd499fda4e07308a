variable "secret_name" {
  description = "Name of the Secrets Manager secret holding the client API keys (e.g. predictor/production/api-keys)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_-]{1,200}$", var.secret_name))
    error_message = "secret_name may hold only letters, digits and / _ - (it also names the KMS alias)."
  }
}

variable "recovery_window_days" {
  description = "Days a deleted secret can still be restored."
  type        = number
  default     = 30

  validation {
    condition     = var.recovery_window_days >= 7 && var.recovery_window_days <= 30
    error_message = "recovery_window_days must be between 7 and 30."
  }
}

variable "role_name" {
  description = "Name of the Pod Identity role the service's pods assume to read the secret."
  type        = string
}

variable "cluster_name" {
  description = "Name of the EKS cluster the service runs in (its Pod Identity association is made there)."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the service account."
  type        = string
}

variable "service_account" {
  description = "Kubernetes service account of the service's pods."
  type        = string
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
