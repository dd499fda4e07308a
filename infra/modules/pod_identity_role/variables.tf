variable "name" {
  description = "Name of the IAM role."
  type        = string
}

variable "cluster_name" {
  description = "Name of the EKS cluster whose Pod Identity association may hand out the role (its ARN is pinned in the trust)."
  type        = string
}

variable "associated_by_addon" {
  description = "True when an EKS add-on's pod_identity_association block associates the role with its own service account; otherwise the module makes the association."
  type        = bool
  default     = false
}

variable "namespace" {
  description = "Kubernetes namespace of the only service account allowed to assume the role."
  type        = string

  # The trust compares it with StringEquals: a DNS label, so no wildcard can slip in.
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
