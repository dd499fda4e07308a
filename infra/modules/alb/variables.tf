variable "name" {
  description = "Name of the load balancer (prefix of its security group, bucket and web ACL)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9-]{1,26}$", var.name))
    error_message = "name must be 1-26 letters, digits or hyphens (it prefixes names AWS limits to 32 characters)."
  }
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets (one per zone) the internet-facing ALB lives in."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An ALB needs subnets in at least two zones."
  }
}

variable "node_security_group_id" {
  description = "Security group of the nodes (and so of the pods) the ALB forwards to."
  type        = string
}

variable "ingress_cidrs" {
  description = "Client CIDRs allowed to reach the ALB on 80 and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "domain_name" {
  description = "Domain the service answers on; the ACM certificate is issued for it."
  type        = string
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_name. When given, the certificate validation record and an A alias record to the ALB are created in it; when null, add the validation records shown in the certificate_validation_records output yourself (apply waits for them)."
  type        = string
  default     = null
}

variable "ssl_policy" {
  description = "TLS security policy of the HTTPS listener (the root passes load_balancer.tls_policy of the service card); must be one of the ELBSecurityPolicy-TLS13-* policies."
  type        = string

  validation {
    condition     = startswith(var.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "ssl_policy must be a TLS 1.3 policy (ELBSecurityPolicy-TLS13-*)."
  }
}

variable "target" {
  description = "The service behind the ALB: its port, health check and draining, from the service card. Both target groups (stable and canary) take these; the canary's is named <name>-canary."
  type = object({
    name                          = string
    port                          = number
    health_check_path             = string
    health_check_interval_seconds = number
    health_check_timeout_seconds  = number
    healthy_threshold             = number
    unhealthy_threshold           = number
    deregistration_delay_seconds  = number
  })

  validation {
    condition     = var.target.health_check_timeout_seconds < var.target.health_check_interval_seconds
    error_message = "target.health_check_timeout_seconds must be shorter than the interval."
  }

  validation {
    condition     = can(regex("^[a-zA-Z0-9-]{1,25}$", var.target.name))
    error_message = "target.name must be 1-25 letters, digits or hyphens: the canary's group is named <target.name>-canary, and AWS limits target group names to 32 characters."
  }
}

variable "idle_timeout_seconds" {
  description = "ALB idle timeout; the service's keep-alive timeout must exceed it."
  type        = number
}

variable "backend_keep_alive_timeout_seconds" {
  description = "Keep-alive timeout of the service's HTTP server. It must exceed idle_timeout_seconds, so that the ALB, never the server, closes an idle connection (a server closing first turns the next request on it into a 502)."
  type        = number

  validation {
    condition     = var.backend_keep_alive_timeout_seconds > var.idle_timeout_seconds
    error_message = "backend_keep_alive_timeout_seconds must be greater than idle_timeout_seconds, or the ALB sends requests on connections the server is closing (502s)."
  }
}

variable "deletion_protection" {
  description = "Protect the ALB from deletion (turn off only to tear an environment down)."
  type        = bool
  default     = true
}

variable "access_log_retention_days" {
  description = "Days the access logs are kept in the log bucket."
  type        = number
  default     = 365
}

variable "waf_rate_limit" {
  description = "Requests per 5 minutes from one client IP above which the web ACL blocks it."
  type        = number
  default     = 2000
}

variable "log_retention_days" {
  description = "Retention of the WAF logs in CloudWatch Logs, in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

variable "internal_paths" {
  description = "Request paths (and everything under them) the HTTPS listener answers 404 for instead of forwarding: endpoints only the cluster may read, such as the metrics path. At most 2 paths (a rule holds 5 path patterns; each path takes two)."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.internal_paths) <= 2 && alltrue([for p in var.internal_paths : startswith(p, "/") && p != "/"])
    error_message = "internal_paths must list at most 2 absolute paths other than /."
  }
}
