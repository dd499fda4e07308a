data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  issuer    = "token.actions.githubusercontent.com"
  # Composed rather than taken from the resource, so trust policies are known at plan time and the
  # same whether or not this module creates the provider.
  oidc_provider_arn = "arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.issuer}"

  deploy_subject = "repo:${var.repository}:${var.deploy_subject}"
  plan_subject   = "repo:${var.repository}:pull_request"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

# GitHub's token: StringEquals on the audience and on the exact subject, never StringLike.
locals {
  trust_policies = {
    for role, subject in { deploy = local.deploy_subject, plan = local.plan_subject } : role => jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid       = "GitHubActions${title(role)}"
        Effect    = "Allow"
        Action    = "sts:AssumeRoleWithWebIdentity"
        Principal = { Federated = local.oidc_provider_arn }
        Condition = {
          StringEquals = {
            "${local.issuer}:aud" = "sts.amazonaws.com"
            "${local.issuer}:sub" = subject
          }
        }
      }]
    })
  }
}
