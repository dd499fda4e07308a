output "project_name" {
  description = "Name of the CodeBuild project (the repository variable the deploy job's runs-on reads)."
  value       = aws_codebuild_project.runner.name
}

output "runs_on_label" {
  description = "The runs-on label a workflow job uses to run on this runner."
  value       = "codebuild-${aws_codebuild_project.runner.name}-$${{ github.run_id }}-$${{ github.run_attempt }}"
}

output "security_group_id" {
  description = "Security group of the runner (the only source the cluster API security group admits on 443 for it)."
  value       = aws_security_group.runner.id
}

output "connection_arn" {
  description = "GitHub connection to authorise once in the console (Developer Tools > Connections), then set github_connection_authorized."
  value       = aws_codeconnections_connection.github.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the runner's builds."
  value       = aws_cloudwatch_log_group.runner.name
}

output "role_arn" {
  description = "Service role of the runner's CodeBuild project."
  value       = aws_iam_role.runner.arn
}
