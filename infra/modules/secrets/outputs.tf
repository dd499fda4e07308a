output "secret_arn" {
  description = "ARN of the client API keys secret."
  value       = aws_secretsmanager_secret.this.arn
}

output "secret_name" {
  description = "Name of the client API keys secret."
  value       = aws_secretsmanager_secret.this.name
}

output "role_arn" {
  description = "Pod Identity role of the service's pods (associated with its service account here)."
  value       = module.reader_role.arn
}

output "read_policy" {
  description = "Permission policy (JSON) of the reader role."
  value       = local.read_policy
}

output "kms_key_arn" {
  description = "ARN of the key encrypting the secret."
  value       = module.key.arn
}
