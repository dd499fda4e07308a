output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider the roles trust."
  value       = local.oidc_provider_arn
}

output "deploy_role_arn" {
  description = "Role the deploy workflow assumes (aws-actions/configure-aws-credentials role-to-assume)."
  value       = aws_iam_role.deploy.arn
}

output "deploy_subject" {
  description = "Exact OIDC subject the deploy role trusts."
  value       = local.deploy_subject
}

output "plan_role_arn" {
  description = "Read-only role pull-request workflows assume for terraform plan."
  value       = aws_iam_role.plan.arn
}

output "plan_subject" {
  description = "Exact OIDC subject the plan role trusts."
  value       = local.plan_subject
}

output "trust_policies" {
  description = "Trust policy documents (JSON) by role: deploy, plan."
  value       = local.trust_policies
}

output "deploy_policy" {
  description = "Permission policy document (JSON) of the deploy role."
  value       = local.deploy_policy
}
