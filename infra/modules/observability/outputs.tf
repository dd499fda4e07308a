output "topic_name" {
  description = "Name of the SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.name
}

output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_arns" {
  description = "ARNs of the alarms by purpose."
  value = {
    pod_cpu         = aws_cloudwatch_metric_alarm.pod_cpu.arn
    pod_memory      = aws_cloudwatch_metric_alarm.pod_memory.arn
    unhealthy_hosts = aws_cloudwatch_metric_alarm.unhealthy_hosts.arn
    target_5xx_rate = aws_cloudwatch_metric_alarm.target_5xx_rate.arn
    healthy_hosts   = aws_cloudwatch_metric_alarm.healthy_hosts_low.arn
    elb_5xx         = aws_cloudwatch_metric_alarm.elb_5xx.arn
    p99_latency     = aws_cloudwatch_metric_alarm.p99_latency.arn
  }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "container_insights_log_group_arns" {
  description = "ARNs of the Container Insights log groups; the CloudWatch observability add-on must wait for them."
  value       = [for g in aws_cloudwatch_log_group.container_insights : g.arn]
}

output "container_insights_log_group_names" {
  description = "Names of the Container Insights log groups (/aws/containerinsights/<cluster>/application, dataplane, host, performance)."
  value       = [for g in aws_cloudwatch_log_group.container_insights : g.name]
}
