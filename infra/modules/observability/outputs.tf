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
  }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
