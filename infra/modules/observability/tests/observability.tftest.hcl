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
  name                    = "predictor-production"
  cluster_name            = "predictor-production"
  namespace               = "predictor"
  workload_name           = "predictor"
  alb_arn_suffix          = "app/predictor-production/0123456789abcdef"
  target_group_arn_suffix = "targetgroup/predictor-production/0123456789abcdef"
  alarm_email             = "oncall@example.com"
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
      for a in [aws_cloudwatch_metric_alarm.pod_cpu, aws_cloudwatch_metric_alarm.pod_memory, aws_cloudwatch_metric_alarm.unhealthy_hosts, aws_cloudwatch_metric_alarm.target_5xx_rate] :
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
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 6
    error_message = "The dashboard shows CPU, memory, requests, latency, 5xx and unhealthy targets."
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
