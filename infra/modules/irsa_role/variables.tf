variable "name" {
  description = "Name of the IAM role."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (the IRSA trust anchor)."
  type        = string
}

variable "oidc_issuer" {
  description = "Cluster OIDC issuer host and path, without the https:// scheme (the prefix of the aud/sub condition keys)."
  type        = string

  validation {
    condition     = !startswith(var.oidc_issuer, "https://")
    error_message = "oidc_issuer must not carry the https:// scheme: IAM condition keys use the bare issuer host."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the only service account allowed to assume the role."
  type        = string
}

variable "service_account" {
  description = "Name of the only Kubernetes service account allowed to assume the role."
  type        = string
}

variable "inline_policies" {
  description = "Inline permission policies (name => JSON document). Keys must be known at plan time."
  type        = map(string)
  default     = {}
}

variable "managed_policy_arns" {
  description = "ARNs of managed policies to attach."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
