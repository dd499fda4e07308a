variable "repository" {
  description = "GitHub repository allowed to assume the roles, as OWNER/REPO."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$", var.repository))
    error_message = "repository must be OWNER/REPO exactly (no wildcards)."
  }
}

variable "deploy_subject" {
  description = "What may deploy: the production environment (\"environment:production\") or the main branch (\"ref:refs/heads/main\"). Becomes the exact OIDC sub claim repo:OWNER/REPO:<this>. A job that names an environment gets the environment form from GitHub, whatever its branch."
  type        = string
  default     = "environment:production"

  validation {
    condition     = contains(["ref:refs/heads/main", "environment:production"], var.deploy_subject)
    error_message = "deploy_subject must be \"ref:refs/heads/main\" or \"environment:production\"."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's GitHub OIDC provider. An account has at most one per URL: set false when it already exists."
  type        = bool
  default     = true
}

variable "deploy_role_name" {
  description = "Name of the role the deploy workflow assumes."
  type        = string
}

variable "plan_role_name" {
  description = "Name of the read-only role pull-request workflows assume for terraform plan."
  type        = string
}

variable "ecr_repository_arn" {
  description = "ARN of the one ECR repository the deploy role may push to and pull from."
  type        = string
}

variable "cluster_name" {
  description = "Name of the one EKS cluster the deploy role may describe and deploy into."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of that EKS cluster."
  type        = string
}

variable "deployer_group" {
  description = "Kubernetes group the deploy role is mapped to (its access entry's kubernetes_groups). It has no EKS access policy: a namespaced Role bound to this group, derived from the kinds the deploy applies, is all it may do in Kubernetes."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$", var.deployer_group)) && !startswith(var.deployer_group, "system:")
    error_message = "deployer_group must be a plain lowercase group name (EKS refuses groups starting with system:, and system:masters would make the deploy role cluster admin)."
  }
}

variable "weighted_listener" {
  description = "The listener whose forward weights a canary release moves: the name of its load balancer and the tag only that listener carries (the alb module's weighted_listener_tag). The deploy role may call ModifyListener on that load balancer's listeners with that tag, and no other."
  type = object({
    load_balancer_name = string
    tag                = map(string)
  })

  validation {
    condition     = length(var.weighted_listener.tag) > 0 && can(regex("^[a-zA-Z0-9-]{1,32}$", var.weighted_listener.load_balancer_name))
    error_message = "weighted_listener needs a load balancer name (1-32 letters, digits or hyphens) and a tag that singles out the listener."
  }
}

variable "state_bucket" {
  description = "Bucket of the Terraform state (backend.hcl bucket); the plan role may list the state's key in it."
  type        = string
}

variable "state_key" {
  description = "Object key of the Terraform state (backend.hcl key); the only object the plan role may read."
  type        = string
}

variable "managed_bucket_names" {
  description = "Buckets the configuration manages; the plan role may read their configuration, never their objects."
  type        = list(string)
  default     = []
}

variable "managed_topic_names" {
  description = "SNS topics the configuration manages; the plan role may read their attributes, subscriptions and tags."
  type        = list(string)
  default     = []
}

variable "managed_queue_names" {
  description = "SQS queues the configuration manages; the plan role may read their attributes and tags."
  type        = list(string)
  default     = []
}

variable "reads_dns_records" {
  description = "The configuration manages Route 53 records, so the plan role may read the zone and its records."
  type        = bool
  default     = false
}

variable "state_kms_key_arn" {
  description = "KMS key encrypting the Terraform state bucket; the plan role may decrypt with it (through S3 only). Null when the state is not KMS-encrypted."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
