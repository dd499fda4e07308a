variable "account_id" {
  description = "AWS account the infrastructure lives in; the provider refuses any other, and policy ARNs are composed from it."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "environment" {
  description = "Environment name; with the service name it prefixes every resource name."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}$", var.environment))
    error_message = "environment must be 2-15 lowercase letters, digits or hyphens."
  }
}

variable "github_repository" {
  description = "GitHub repository (OWNER/REPO) whose workflows may assume the deploy and plan roles."
  type        = string
}

variable "github_deploy_subject" {
  description = "What may deploy, the exact OIDC subject after repo:OWNER/REPO: \"environment:production\" (the deploy job runs in that environment, so GitHub issues this subject) or \"ref:refs/heads/main\" (a job without an environment)."
  type        = string
  default     = "environment:production"
}

variable "github_connection_authorized" {
  description = "Set to true once an admin has authorised the GitHub connection (output deploy_runner_connection_arn) in the console; the webhook that starts the deploy runner is created then."
  type        = bool
  default     = false
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (false when the account already has one)."
  type        = bool
  default     = true
}

variable "domain_name" {
  description = "Domain the service is served on (the ACM certificate's name)."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 zone of domain_name for DNS validation and the alias record; null to publish the records yourself."
  type        = string
  default     = null
}

variable "alarm_email" {
  description = "Email subscribed to the alarm topic; null for none."
  type        = string
  default     = null
}

variable "alarm_thresholds" {
  description = "Alarm thresholds (see the observability module): pod CPU/memory % of limit, target 5xx % of requests, tolerated unhealthy targets, the load balancer's own 5xx per minute."
  type = object({
    pod_cpu_percent          = optional(number, 80)
    pod_memory_percent       = optional(number, 80)
    target_5xx_rate_percent  = optional(number, 5)
    unhealthy_hosts_tolerate = optional(number, 0)
    elb_5xx_per_period       = optional(number, 5)
  })
  default = {}
}

variable "min_replicas" {
  description = "The service's minimum replicas in this environment (the HPA's minReplicas, [scale] min of manifests_py/environments/<env>.toml, at least 1): fewer healthy targets than this alarms."
  type        = number

  validation {
    condition     = var.min_replicas >= 1 && floor(var.min_replicas) == var.min_replicas
    error_message = "min_replicas must be a whole number of at least 1."
  }
}

variable "latency_objective_p99_seconds" {
  description = "Objective for the p99 target response time as the load balancer measures it, in seconds; above it for most of the alarm's window alarms. Not the capacity record's per-pod objective (manifests_py/capacity.json), which is measured at the pod's load limit on a quiet machine."
  type        = number
  default     = 0.25
}

variable "container_insights_log_retention_days" {
  description = "Retention of the Container Insights log groups, in days."
  type        = number
  default     = 365
}

variable "eks_admin_principal_arns" {
  description = "IAM roles or users given cluster admin through EKS access entries."
  type        = list(string)
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint; empty keeps the endpoint private."
  type        = list(string)
  default     = []
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster."
  type        = string
  default     = "1.33"
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_scaling" {
  description = "Minimum, maximum and initial size of the managed node group."
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
}

variable "availability_zones" {
  description = "Three availability zones (names) for the subnets; null means <region>a, <region>b and <region>c."
  type        = list(string)
  default     = null

  validation {
    condition     = var.availability_zones == null || length(coalesce(var.availability_zones, [])) == 3
    error_message = "availability_zones must list exactly three zones."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per zone (cheaper, loses zone independence)."
  type        = bool
  default     = false
}

variable "alb_ingress_cidrs" {
  description = "Client CIDRs allowed to reach the ALB."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "alb_deletion_protection" {
  description = "Deletion protection of the ALB."
  type        = bool
  default     = true
}

variable "state_bucket" {
  description = "Bucket of the Terraform state (bootstrap output state_bucket, backend.hcl bucket); the plan role reads the state from it."
  type        = string
}

variable "state_key" {
  description = "Object key of the Terraform state (bootstrap output state_key, backend.hcl key); the only object the plan role may read."
  type        = string
}

variable "state_kms_key_arn" {
  description = "KMS key of the Terraform state bucket (bootstrap output state_kms_key_arn); the plan role may decrypt the state with it."
  type        = string
  default     = null
}

variable "tags" {
  description = "Extra tags for every resource (Service, Environment, ManagedBy and Repository are always set)."
  type        = map(string)
  default     = {}
}
