# A GitHub Actions self-hosted runner that CodeBuild starts inside the VPC for every queued workflow job
# whose runs-on label names this project: the deploy job reaches the private EKS API endpoint without the
# endpoint ever being public. Each runner is ephemeral (one job, one build).
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  arn_prefix = "arn:${local.partition}"

  # Composed from names, so the role's policies are known at plan time.
  project_arn   = "${local.arn_prefix}:codebuild:${local.region}:${local.account_id}:project/${var.name}"
  log_group     = "/aws/codebuild/${var.name}"
  log_group_arn = "${local.arn_prefix}:logs:${local.region}:${local.account_id}:log-group:${local.log_group}"
  ec2_arn       = "${local.arn_prefix}:ec2:${local.region}:${local.account_id}"
  # The connection's ARN ends in an ID AWS generates; the account's connections are the narrowest known
  # at plan time.
  connections_arn = "${local.arn_prefix}:codeconnections:${local.region}:${local.account_id}:connection/*"
}

# The GitHub App connection CodeBuild uses to register runners and create the repository webhook. AWS
# creates it PENDING: an admin authorises it once in the console (the one manual step).
resource "aws_codeconnections_connection" "github" {
  name          = var.name
  provider_type = "GitHub"
  tags          = var.tags
}

resource "aws_cloudwatch_log_group" "runner" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = module.key.arn
  tags              = var.tags
}

module "key" {
  source = "../kms_key"

  alias       = "codebuild/${var.name}"
  description = "Encrypts the build logs and output of the ${var.name} runner"
  service_statements = [
    {
      sid        = "CloudWatchLogsUsesForTheRunnerLogGroup"
      principal  = { Service = "logs.${local.region}.amazonaws.com" }
      actions    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
      conditions = { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = local.log_group_arn } }
    },
    {
      sid = "RunnerRoleEncryptsItsBuildOutput"
      # Composed from the role's name so the policy is known at plan time and the role exists first.
      principal  = { AWS = "${local.arn_prefix}:iam::${local.account_id}:role/${aws_iam_role.runner.name}" }
      actions    = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      conditions = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
    },
  ]
  tags = var.tags
}

resource "aws_codebuild_project" "runner" {
  name                   = var.name
  description            = "GitHub Actions runner for ${var.repository} inside the VPC (runs-on: codebuild-${var.name}-<run_id>-<run_attempt>)"
  service_role           = aws_iam_role.runner.arn
  encryption_key         = module.key.arn
  build_timeout          = var.build_timeout_minutes
  queued_timeout         = 30
  concurrent_build_limit = 2

  source {
    type     = "GITHUB"
    location = "https://github.com/${var.repository}.git"

    auth {
      type     = "CODECONNECTIONS"
      resource = aws_codeconnections_connection.github.arn
    }
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    type         = "LINUX_CONTAINER"
    compute_type = var.compute_type
    image        = var.image
    #checkov:skip=CKV_AWS_316:The deploy job builds the service image with docker (make image), which needs CodeBuild's privileged mode; the runner is ephemeral, in private subnets, and holds no AWS permission beyond its logs.
    privileged_mode             = true
    image_pull_credentials_type = "CODEBUILD"
  }

  vpc_config {
    vpc_id             = var.vpc_id
    subnets            = var.subnet_ids
    security_group_ids = [aws_security_group.runner.id]
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.runner.name
    }
    s3_logs {
      status = "DISABLED"
    }
  }

  tags = var.tags
}

# Only queued workflow jobs start a build; CodeBuild then runs it as a runner if the job's label names
# this project, and ignores it otherwise.
resource "aws_codebuild_webhook" "workflow_jobs" {
  count = var.github_connection_authorized ? 1 : 0

  project_name = aws_codebuild_project.runner.name
  build_type   = "BUILD"

  filter_group {
    filter {
      type    = "EVENT"
      pattern = "WORKFLOW_JOB_QUEUED"
    }
  }
}
