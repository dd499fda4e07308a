variable "cluster_name" {
  description = "Name of the EKS cluster Karpenter provisions nodes for (prefix of every resource name, and the value of the cluster tags its policy is scoped by)."
  type        = string

  validation {
    # The longest name built from it, <cluster>-karpenter-scheduled-change, is an EventBridge rule
    # name, which AWS limits to 64 characters.
    condition     = can(regex("^[0-9A-Za-z][A-Za-z0-9-_]*$", var.cluster_name)) && length(var.cluster_name) <= 37
    error_message = "cluster_name must be an EKS cluster name of at most 37 characters (it prefixes rule names AWS limits to 64)."
  }
}

variable "namespace" {
  description = "Namespace the Karpenter controller runs in (the Helm release's namespace)."
  type        = string
  default     = "karpenter"
}

variable "service_account" {
  description = "Service account of the Karpenter controller (the only one its role trusts and is associated with)."
  type        = string
  default     = "karpenter"
}

variable "node_security_group_id" {
  description = "Security group the nodes carry (EKS's cluster security group: the ALB reaches pods through it); tagged with discovery_tags so EC2NodeClass securityGroupSelectorTerms find it."
  type        = string
}

variable "discovery_tags" {
  description = "Tags EC2NodeClass selector terms look for (karpenter.sh/discovery = cluster name); put on the node security group here, and by the root on the private subnets."
  type        = map(string)

  validation {
    condition     = length(var.discovery_tags) > 0
    error_message = "discovery_tags must name at least one tag, or no EC2NodeClass could select the node security group."
  }
}

variable "ami_parameter_paths" {
  description = "SSM parameter paths (prefixes) Karpenter may read to resolve EC2NodeClass AMI aliases; the EKS-optimized AMIs (al2023@...) live under /aws/service/eks/optimized-ami/. Add /aws/service/bottlerocket/ for Bottlerocket aliases."
  type        = list(string)
  default     = ["/aws/service/eks/optimized-ami/"]

  validation {
    condition     = length(var.ami_parameter_paths) > 0 && alltrue([for p in var.ami_parameter_paths : startswith(p, "/aws/service/") && endswith(p, "/")])
    error_message = "ami_parameter_paths must be public AMI parameter paths under /aws/service/, each ending with /."
  }
}

variable "message_retention_seconds" {
  description = "How long an interruption message is kept; past a Spot instance's two-minute warning it is worthless."
  type        = number
  default     = 300

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600 (SQS limits)."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
