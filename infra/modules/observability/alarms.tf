locals {
  pod_dimensions = {
    ClusterName = var.cluster_name
    Namespace   = var.namespace
    PodName     = var.workload_name
  }
  target_dimensions = {
    LoadBalancer = var.alb_arn_suffix
    TargetGroup  = var.target_group_arn_suffix
  }
  actions = [aws_sns_topic.alarms.arn]
}

# Container Insights reports usage against the pod's limit, which is what throttling and OOM kills
# are measured against.
resource "aws_cloudwatch_metric_alarm" "pod_cpu" {
  alarm_name          = "${var.name}-pod-cpu-high"
  alarm_description   = "Pods of ${var.workload_name} use more than ${var.thresholds.pod_cpu_percent}% of their CPU limit"
  namespace           = "ContainerInsights"
  metric_name         = "pod_cpu_utilization_over_pod_limit"
  dimensions          = local.pod_dimensions
  statistic           = "Average"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.pod_cpu_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "pod_memory" {
  alarm_name          = "${var.name}-pod-memory-high"
  alarm_description   = "Pods of ${var.workload_name} use more than ${var.thresholds.pod_memory_percent}% of their memory limit"
  namespace           = "ContainerInsights"
  metric_name         = "pod_memory_utilization_over_pod_limit"
  dimensions          = local.pod_dimensions
  statistic           = "Average"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.pod_memory_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  alarm_name          = "${var.name}-unhealthy-targets"
  alarm_description   = "The target group of ${var.workload_name} has unhealthy targets"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = local.target_dimensions
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.unhealthy_hosts_tolerate
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# A rate, not a count: 5 errors mean nothing at 10k requests per minute and everything at 10.
resource "aws_cloudwatch_metric_alarm" "target_5xx_rate" {
  alarm_name          = "${var.name}-target-5xx-rate"
  alarm_description   = "More than ${var.thresholds.target_5xx_rate_percent}% of ${var.workload_name}'s responses are 5xx"
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.target_5xx_rate_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "rate"
    label       = "Target 5xx (% of requests)"
    expression  = "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = local.target_dimensions
      stat        = "Sum"
      period      = var.period_seconds
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = local.target_dimensions
      stat        = "Sum"
      period      = var.period_seconds
    }
  }
}
