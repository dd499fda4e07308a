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
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/predictor-production-deployer-codebuild"
    }
  }
  mock_resource "aws_codeconnections_connection" {
    defaults = {
      arn = "arn:aws:codeconnections:eu-west-1:123456789012:connection/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_security_group" {
    defaults = { id = "sg-0runner0000000000" }
  }
}

variables {
  name                      = "predictor-production-deployer"
  repository                = "example-org/predictor-service"
  vpc_id                    = "vpc-0123456789abcdef0"
  subnet_ids                = ["subnet-private-a", "subnet-private-b", "subnet-private-c"]
  cluster_security_group_id = "sg-0cluster000000000"
}

run "runner_lives_in_the_private_subnets_with_its_own_security_group" {
  command = apply

  assert {
    condition = (
      aws_codebuild_project.runner.vpc_config[0].vpc_id == var.vpc_id &&
      toset(aws_codebuild_project.runner.vpc_config[0].subnets) == toset(var.subnet_ids) &&
      toset(aws_codebuild_project.runner.vpc_config[0].security_group_ids) == toset([aws_security_group.runner.id])
    )
    error_message = "The runner must run in the given private subnets with its own security group only."
  }
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.cluster_api_from_runner.security_group_id == var.cluster_security_group_id &&
      aws_vpc_security_group_ingress_rule.cluster_api_from_runner.referenced_security_group_id == aws_security_group.runner.id &&
      aws_vpc_security_group_ingress_rule.cluster_api_from_runner.from_port == 443 &&
      aws_vpc_security_group_ingress_rule.cluster_api_from_runner.to_port == 443 &&
      aws_vpc_security_group_ingress_rule.cluster_api_from_runner.cidr_ipv4 == null
    )
    error_message = "The cluster API admits the runner on 443 by security group, never by CIDR."
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.https.from_port == 443 && aws_vpc_security_group_egress_rule.https.to_port == 443
    error_message = "The runner only speaks HTTPS out."
  }
  assert {
    condition     = output.runs_on_label == "codebuild-predictor-production-deployer-$${{ github.run_id }}-$${{ github.run_attempt }}"
    error_message = "The runs-on label must be codebuild-<project>-$${{ github.run_id }}-$${{ github.run_attempt }}."
  }
}

run "runner_uses_the_github_connection_and_encrypted_logs" {
  command = apply

  assert {
    condition = (
      aws_codebuild_project.runner.source[0].type == "GITHUB" &&
      aws_codebuild_project.runner.source[0].location == "https://github.com/example-org/predictor-service.git" &&
      aws_codebuild_project.runner.source[0].auth[0].type == "CODECONNECTIONS" &&
      aws_codebuild_project.runner.source[0].auth[0].resource == aws_codeconnections_connection.github.arn
    )
    error_message = "The runner must take the repository through the GitHub connection."
  }
  assert {
    condition = (
      aws_codebuild_project.runner.logs_config[0].cloudwatch_logs[0].status == "ENABLED" &&
      aws_codebuild_project.runner.logs_config[0].cloudwatch_logs[0].group_name == "/aws/codebuild/predictor-production-deployer" &&
      aws_cloudwatch_log_group.runner.kms_key_id == module.key.arn &&
      aws_cloudwatch_log_group.runner.retention_in_days == 365
    )
    error_message = "Build logs go to a KMS-encrypted log group with a retention."
  }
  assert {
    condition     = aws_codebuild_project.runner.encryption_key == module.key.arn
    error_message = "The project encrypts with its own key."
  }
}

run "the_runner_role_is_trusted_by_this_project_only_and_holds_no_wildcard_action" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_role.runner.assume_role_policy).Statement[0].Condition == {
      StringEquals = { "aws:SourceAccount" = "123456789012" }
      ArnEquals    = { "aws:SourceArn" = "arn:aws:codebuild:eu-west-1:123456789012:project/predictor-production-deployer" }
    }
    error_message = "Only CodeBuild acting for this project of this account may assume the role."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.runner.policy).Statement :
      s.Resource != "*" || alltrue([for a in flatten([s.Action]) : startswith(a, "ec2:Describe")])
    ])
    error_message = "Only Describe calls may name every resource."
  }
  assert {
    condition     = toset(flatten([for s in jsondecode(aws_iam_role_policy.runner.policy).Statement : s.Action])) == toset(["logs:CreateLogStream", "logs:PutLogEvents", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:CreateNetworkInterfacePermission", "codeconnections:GetConnection", "codeconnections:GetConnectionToken", "codeconnections:UseConnection", "codestar-connections:GetConnection", "codestar-connections:GetConnectionToken", "codestar-connections:UseConnection"])
    error_message = "The runner role holds logs, VPC attachment and the connection, nothing more (no EKS, ECR or STS: the job assumes the deploy role through OIDC)."
  }
}

run "no_webhook_until_the_connection_is_authorised" {
  command = plan

  assert {
    condition     = length(aws_codebuild_webhook.workflow_jobs) == 0
    error_message = "A pending connection cannot create the repository webhook."
  }
}

run "the_webhook_starts_runners_for_queued_workflow_jobs_only" {
  command = apply

  variables {
    github_connection_authorized = true
  }

  assert {
    condition = (
      length(aws_codebuild_webhook.workflow_jobs[0].filter_group) == 1 &&
      [for g in aws_codebuild_webhook.workflow_jobs[0].filter_group : [for f in g.filter : "${f.type}=${f.pattern}"]] == [["EVENT=WORKFLOW_JOB_QUEUED"]]
    )
    error_message = "The webhook must fire on WORKFLOW_JOB_QUEUED only."
  }
}

run "a_name_too_long_for_the_connection_is_rejected" {
  command = plan

  variables {
    name = "predictor-production-deploy-runner"
  }

  expect_failures = [var.name]
}
