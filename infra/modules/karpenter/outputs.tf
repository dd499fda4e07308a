output "node_role_name" {
  description = "IAM role of the nodes Karpenter launches (EC2NodeClass spec.role)."
  value       = aws_iam_role.node.name
}

output "node_role_arn" {
  description = "ARN of the nodes' IAM role (the only role the controller may pass)."
  value       = aws_iam_role.node.arn
}

output "controller_role_arn" {
  description = "Pod Identity role of the Karpenter controller (associated with its service account here)."
  value       = module.controller_role.arn
}

output "controller_role_name" {
  description = "Name of the controller's Pod Identity role."
  value       = module.controller_role.name
}

output "controller_policy" {
  description = "The controller's permission policy (JSON)."
  value       = local.controller_policy
}

output "interruption_queue_name" {
  description = "SQS queue of interruption events (the Helm value settings.interruptionQueue)."
  value       = aws_sqs_queue.interruption.name
}

output "interruption_queue_arn" {
  description = "ARN of the interruption queue."
  value       = aws_sqs_queue.interruption.arn
}

output "interruption_queue_kms_key_arn" {
  description = "KMS key encrypting the interruption queue."
  value       = module.queue_key.arn
}

output "interruption_rule_names" {
  description = "EventBridge rules feeding the queue, by event: spot-interruption, rebalance, state-change, scheduled-change."
  value       = { for event, rule in aws_cloudwatch_event_rule.interruption : event => rule.name }
}

output "namespace" {
  description = "Namespace the controller's role expects it in."
  value       = var.namespace
}

output "service_account" {
  description = "Service account the controller's role trusts and is associated with."
  value       = var.service_account
}
