mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:predictor-production-alarms"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    }
  }
}

variables {
  name                      = "predictor-production"
  cluster_name              = "predictor-production"
  namespace                 = "predictor"
  workload_name             = "predictor"
  alb_arn_suffix            = "app/predictor-production/0123456789abcdef"
  target_group_arn_suffix   = "targetgroup/predictor-production/0123456789abcdef"
  alarm_email               = "oncall@example.com"
  min_healthy_targets       = 3
  latency_objective_seconds = 0.25
}

run "pod_alarms_fire_above_80_percent_of_the_limit" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.pod_cpu.namespace == "ContainerInsights" &&
      aws_cloudwatch_metric_alarm.pod_cpu.metric_name == "pod_cpu_utilization_over_pod_limit" &&
      aws_cloudwatch_metric_alarm.pod_cpu.threshold == 80 &&
      aws_cloudwatch_metric_alarm.pod_cpu.comparison_operator == "GreaterThanThreshold"
    )
    error_message = "Pod CPU alarm: ContainerInsights CPU over limit > 80."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.pod_memory.metric_name == "pod_memory_utilization_over_pod_limit" &&
      aws_cloudwatch_metric_alarm.pod_memory.threshold == 80 &&
      aws_cloudwatch_metric_alarm.pod_memory.comparison_operator == "GreaterThanThreshold"
    )
    error_message = "Pod memory alarm: ContainerInsights memory over limit > 80."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.pod_cpu.dimensions == tomap({ ClusterName = "predictor-production", Namespace = "predictor", PodName = "predictor" })
    error_message = "Pod alarms must watch the service's pods in its cluster and namespace."
  }
}

run "load_balancer_alarms_fire_on_any_unhealthy_target_and_on_a_5xx_rate" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.unhealthy_hosts.metric_name == "UnHealthyHostCount" &&
      aws_cloudwatch_metric_alarm.unhealthy_hosts.threshold == 0 &&
      aws_cloudwatch_metric_alarm.unhealthy_hosts.comparison_operator == "GreaterThanThreshold"
    )
    error_message = "Unhealthy target alarm: UnHealthyHostCount > 0."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.unhealthy_hosts.dimensions == tomap({ LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix })
    error_message = "The unhealthy target alarm must watch the service's target group."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.target_5xx_rate.threshold == 5 &&
      one([for q in aws_cloudwatch_metric_alarm.target_5xx_rate.metric_query : q.expression if q.return_data == true]) == "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)"
    )
    error_message = "The 5xx alarm must fire on the percentage of target 5xx responses above 5."
  }
  assert {
    condition     = toset(flatten([for q in aws_cloudwatch_metric_alarm.target_5xx_rate.metric_query : [for m in q.metric : m.metric_name]])) == toset(["HTTPCode_Target_5XX_Count", "RequestCount"])
    error_message = "The 5xx rate divides target 5xx responses by requests."
  }
}

run "every_alarm_notifies_the_encrypted_topic" {
  command = apply

  assert {
    condition = alltrue([
      for a in [
        aws_cloudwatch_metric_alarm.pod_cpu, aws_cloudwatch_metric_alarm.pod_memory, aws_cloudwatch_metric_alarm.unhealthy_hosts, aws_cloudwatch_metric_alarm.target_5xx_rate,
        aws_cloudwatch_metric_alarm.healthy_hosts_low, aws_cloudwatch_metric_alarm.elb_5xx, aws_cloudwatch_metric_alarm.p99_latency,
      ] :
      a.alarm_actions == toset([aws_sns_topic.alarms.arn]) && a.ok_actions == toset([aws_sns_topic.alarms.arn])
    ])
    error_message = "Every alarm must notify the topic when it fires and when it recovers."
  }
  assert {
    condition     = aws_sns_topic.alarms.kms_master_key_id == module.key.arn
    error_message = "The topic must be encrypted with the module's KMS key."
  }
  assert {
    condition     = aws_sns_topic_subscription.email[0].protocol == "email" && aws_sns_topic_subscription.email[0].endpoint == "oncall@example.com"
    error_message = "The on-call address must be subscribed."
  }
  assert {
    condition = toset(flatten([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [for m in w.properties.metrics : m[1]]])) == toset([
      "pod_cpu_utilization_over_pod_limit", "pod_memory_utilization_over_pod_limit", "RequestCount", "TargetResponseTime",
      "HTTPCode_Target_5XX_Count", "UnHealthyHostCount", "HealthyHostCount", "HTTPCode_ELB_5XX_Count",
      "service_number_of_running_pods", "pod_number_of_container_restarts",
    ])
    error_message = "The dashboard shows CPU, memory, requests, latency, target and load balancer 5xx, unhealthy and healthy targets, running replicas and container restarts."
  }
}

run "thresholds_are_configurable" {
  command = plan

  variables {
    thresholds  = { pod_cpu_percent = 70, target_5xx_rate_percent = 1 }
    alarm_email = null
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.pod_cpu.threshold == 70 && aws_cloudwatch_metric_alarm.pod_memory.threshold == 80 && aws_cloudwatch_metric_alarm.target_5xx_rate.threshold == 1
    error_message = "Thresholds must follow the input, defaults filling the rest."
  }
  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "Without an address there is no subscription."
  }
}

run "percentages_above_100_are_rejected" {
  command = plan

  variables {
    thresholds = { pod_memory_percent = 150 }
  }

  expect_failures = [var.thresholds]
}

run "outage_alarms_see_no_healthy_target_the_load_balancers_own_5xx_and_slow_p99" {
  command = apply

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.healthy_hosts_low.metric_name == "HealthyHostCount" &&
      aws_cloudwatch_metric_alarm.healthy_hosts_low.statistic == "Minimum" &&
      aws_cloudwatch_metric_alarm.healthy_hosts_low.comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.healthy_hosts_low.threshold == 3
    )
    error_message = "Healthy target alarm: minimum HealthyHostCount < the environment's minimum replicas."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.healthy_hosts_low.treat_missing_data == "breaching"
    error_message = "A target group with no data at all serves nobody: missing data must breach."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.healthy_hosts_low.dimensions == tomap({ LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix })
    error_message = "The healthy target alarm must watch the service's target group on its load balancer."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.elb_5xx.metric_name == "HTTPCode_ELB_5XX_Count" &&
      aws_cloudwatch_metric_alarm.elb_5xx.statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.elb_5xx.threshold == 5 &&
      aws_cloudwatch_metric_alarm.elb_5xx.dimensions == tomap({ LoadBalancer = var.alb_arn_suffix }) &&
      aws_cloudwatch_metric_alarm.elb_5xx.treat_missing_data == "notBreaching"
    )
    error_message = "Load balancer 5xx alarm: the ALB's own 5xx count above 5 per period, on the load balancer; no data is no error."
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.p99_latency.metric_name == "TargetResponseTime" &&
      aws_cloudwatch_metric_alarm.p99_latency.extended_statistic == "p99" &&
      aws_cloudwatch_metric_alarm.p99_latency.threshold == 0.25 &&
      aws_cloudwatch_metric_alarm.p99_latency.comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.p99_latency.dimensions == tomap({ LoadBalancer = var.alb_arn_suffix, TargetGroup = var.target_group_arn_suffix })
    )
    error_message = "Latency alarm: p99 TargetResponseTime of the target group above the objective."
  }
}

run "container_insights_log_groups_are_encrypted_with_a_retention" {
  command = apply

  assert {
    condition     = toset([for g in aws_cloudwatch_log_group.container_insights : g.name]) == toset([for t in ["application", "dataplane", "host", "performance"] : "/aws/containerinsights/predictor-production/${t}"])
    error_message = "The four Container Insights log groups of the cluster must be created here."
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.container_insights : g.kms_key_id == module.logs_key.arn && g.retention_in_days == 365])
    error_message = "Every Container Insights log group is KMS-encrypted and kept 365 days by default."
  }
  assert {
    condition = one([
      for s in jsondecode(module.logs_key.policy).Statement : s.Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"]
      if try(s.Principal.Service, "") == "logs.eu-west-1.amazonaws.com"
    ]) == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/containerinsights/predictor-production/*"
    error_message = "CloudWatch Logs may use the key only for this cluster's Container Insights log groups."
  }
}

run "retention_follows_the_input" {
  command = plan

  variables {
    container_insights_log_retention_days = 30
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.container_insights : g.retention_in_days == 30])
    error_message = "The retention must follow the input."
  }
}

run "a_retention_cloudwatch_rejects_is_rejected" {
  command = plan

  variables {
    container_insights_log_retention_days = 42
  }

  expect_failures = [var.container_insights_log_retention_days]
}

run "zero_minimum_replicas_is_rejected" {
  command = plan

  variables {
    min_healthy_targets = 0
  }

  expect_failures = [var.min_healthy_targets]
}
