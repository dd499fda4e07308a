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

  # The trust's subject is built from this value and cannot be seen in the root plan until the cluster
  # exists, so the exact-subject rule is enforced here: a DNS label, no wildcard can slip in.
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a Kubernetes namespace name (a DNS-1123 label): no wildcards."
  }
}

variable "service_account" {
  description = "Name of the only Kubernetes service account allowed to assume the role."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$", var.service_account))
    error_message = "service_account must be a Kubernetes object name (a DNS-1123 subdomain): no wildcards."
  }
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
