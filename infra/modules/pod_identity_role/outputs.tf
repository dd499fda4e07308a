output "arn" {
  description = "ARN of the role (the role_arn of the service account's Pod Identity association)."
  value       = aws_iam_role.this.arn
}

output "name" {
  description = "Name of the role."
  value       = aws_iam_role.this.name
}

output "trust_policy" {
  description = "The trust policy document (JSON)."
  value       = local.trust_policy
}

output "service_account" {
  description = "Namespace and name of the only service account the role serves."
  value       = { namespace = var.namespace, name = var.service_account }
}
