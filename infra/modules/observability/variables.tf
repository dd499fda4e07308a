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
  description = "Alarm thresholds: pod CPU and memory as a percentage of the pod's limit, target 5xx responses as a percentage of requests, and the unhealthy target count that is tolerated."
  type = object({
    pod_cpu_percent          = optional(number, 80)
    pod_memory_percent       = optional(number, 80)
    target_5xx_rate_percent  = optional(number, 5)
    unhealthy_hosts_tolerate = optional(number, 0)
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
