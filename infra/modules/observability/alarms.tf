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
  load_balancer_dimensions = {
    LoadBalancer = var.alb_arn_suffix
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

# UnHealthyHostCount stays 0 when every target is gone, so the outage alarm counts the healthy ones.
# Missing data is breaching: a target group the load balancer no longer reports on serves nobody.
resource "aws_cloudwatch_metric_alarm" "healthy_hosts_low" {
  alarm_name          = "${var.name}-healthy-targets-low"
  alarm_description   = "Fewer than ${var.min_healthy_targets} healthy targets (the environment's minimum replicas) serve ${var.workload_name}"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = local.target_dimensions
  statistic           = "Minimum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  comparison_operator = "LessThanThreshold"
  threshold           = var.min_healthy_targets
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# The 502/503/504 the load balancer answers itself (no healthy target, target reset or timeout) are not
# target 5xx. The load balancer publishes the count only when it is above zero, so missing is no error.
resource "aws_cloudwatch_metric_alarm" "elb_5xx" {
  alarm_name          = "${var.name}-load-balancer-5xx"
  alarm_description   = "The load balancer of ${var.workload_name} answers more than ${var.thresholds.elb_5xx_per_period} 5xx per period itself"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  dimensions          = local.load_balancer_dimensions
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.thresholds.elb_5xx_per_period
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# No requests means no response time: an idle service is not slow. A service with no target at all is
# the healthy-target alarm's to report, so missing data does not breach here.
resource "aws_cloudwatch_metric_alarm" "p99_latency" {
  alarm_name          = "${var.name}-p99-latency-high"
  alarm_description   = "The p99 target response time of ${var.workload_name} is above the ${var.latency_objective_seconds} s objective"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = local.target_dimensions
  extended_statistic  = "p99"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  datapoints_to_alarm = var.datapoints_to_alarm
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.latency_objective_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}
