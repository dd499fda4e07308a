variable "name" {
  description = "Name of the EKS cluster (also the prefix of its IAM roles and keys)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and the managed node group."
  type        = string
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.[0-9]+$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version such as \"1.33\"."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the cluster lives in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (one per zone) for the control plane ENIs and the nodes."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets in different zones."
  }
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint. Empty (the default) turns the public endpoint off: the API is reachable only from inside the VPC."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrhost(c, 0)) && !endswith(c, "/0")])
    error_message = "public_access_cidrs must be valid CIDRs and never a /0: the API endpoint is not open to the internet."
  }
}

variable "admin_principal_arns" {
  description = "IAM roles or users granted cluster admin through EKS access entries (the cluster creator gets nothing implicitly)."
  type        = list(string)

  validation {
    condition     = length(var.admin_principal_arns) >= 1 && alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "admin_principal_arns must list at least one IAM role or user ARN, or nobody could administer the cluster."
  }
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_scaling" {
  description = "Minimum, maximum and initial size of the managed node group (desired size is left to the autoscaler afterwards)."
  type = object({
    min_size     = number
    max_size     = number
    desired_size = number
  })
  default = {
    min_size     = 3
    max_size     = 6
    desired_size = 3
  }

  validation {
    condition     = var.node_scaling.min_size <= var.node_scaling.desired_size && var.node_scaling.desired_size <= var.node_scaling.max_size
    error_message = "node_scaling must satisfy min_size <= desired_size <= max_size."
  }
}

variable "node_disk_size_gib" {
  description = "Size of each node's encrypted root volume in GiB."
  type        = number
  default     = 50
}

variable "log_retention_days" {
  description = "Retention of the control-plane logs in CloudWatch Logs, in days."
  type        = number
  default     = 365
}

variable "load_balancer_controller" {
  description = "Service account of the AWS Load Balancer Controller and the target groups it may register pods into (ARNs, a trailing /* for the generated suffix)."
  type = object({
    namespace         = optional(string, "kube-system")
    service_account   = optional(string, "aws-load-balancer-controller")
    target_group_arns = list(string)
  })
}

variable "prometheus_scrape" {
  description = "The workload the CloudWatch agent scrapes for Prometheus metrics: namespace, name (job name, its pods' app.kubernetes.io/part-of label, stable and canary alike, and the metrics' prefix), container port and metrics path."
  type = object({
    namespace = string
    name      = string
    port      = number
    path      = string
  })
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

variable "container_insights_log_group_arns" {
  description = "Container Insights log groups (/aws/containerinsights/<name>/application, dataplane, host, performance) created, encrypted and with a retention, by the caller; the CloudWatch observability add-on is installed only after them, so the agent never creates its own."
  type        = list(string)
  default     = []
}
