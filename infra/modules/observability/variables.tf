variable "name" {
  description = "Name prefix of the topic, alarms and dashboard."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster whose Container Insights metrics the pod alarms read."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of the service."
  type        = string
}

variable "workload_name" {
  description = "Name of the service's workload (the PodName dimension of Container Insights)."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (LoadBalancer dimension)."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "ARN suffix of the target group (TargetGroup dimension)."
  type        = string
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (it must confirm the subscription). Null for none."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an email address or null."
  }
}

variable "thresholds" {
  description = "Alarm thresholds: pod CPU and memory as a percentage of the pod's limit, target 5xx responses as a percentage of requests, the unhealthy target count that is tolerated, and the load balancer's own 5xx responses (502/503/504 it answers itself) per period."
  type = object({
    pod_cpu_percent          = optional(number, 80)
    pod_memory_percent       = optional(number, 80)
    target_5xx_rate_percent  = optional(number, 5)
    unhealthy_hosts_tolerate = optional(number, 0)
    elb_5xx_per_period       = optional(number, 5)
  })
  default = {}

  validation {
    condition = alltrue([
      for p in [var.thresholds.pod_cpu_percent, var.thresholds.pod_memory_percent, var.thresholds.target_5xx_rate_percent] : p > 0 && p <= 100
    ])
    error_message = "Percentage thresholds must be in (0, 100]."
  }
}

variable "period_seconds" {
  description = "Period of every alarm's metric."
  type        = number
  default     = 60
}

variable "evaluation_periods" {
  description = "Periods an alarm looks at; it fires when datapoints_to_alarm of them breach."
  type        = number
  default     = 5
}

variable "datapoints_to_alarm" {
  description = "Breaching periods (out of evaluation_periods) that fire an alarm."
  type        = number
  default     = 3
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

variable "min_healthy_targets" {
  description = "The environment's minimum replicas: fewer healthy targets than this (none at all included) is an outage or a lost zone, and alarms."
  type        = number

  validation {
    condition     = var.min_healthy_targets >= 1 && floor(var.min_healthy_targets) == var.min_healthy_targets
    error_message = "min_healthy_targets must be a whole number of at least 1."
  }
}

variable "latency_objective_seconds" {
  description = "Objective for the p99 target response time, in seconds; a p99 above it alarms."
  type        = number

  validation {
    condition     = var.latency_objective_seconds > 0
    error_message = "latency_objective_seconds must be positive."
  }
}

variable "container_insights_log_retention_days" {
  description = "Retention of the Container Insights log groups (application, dataplane, host, performance), in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.container_insights_log_retention_days)
    error_message = "container_insights_log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}
