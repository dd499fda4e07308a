output "arn" {
  description = "ARN of the role (the value of the service account's eks.amazonaws.com/role-arn annotation)."
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
