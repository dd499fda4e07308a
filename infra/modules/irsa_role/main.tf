# One IAM role for one Kubernetes service account (IRSA). The trust is pinned to the exact
# system:serviceaccount:<namespace>:<name> subject and the STS audience: never a wildcard.
locals {
  trust_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AssumeFromOneServiceAccount"
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = var.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${var.oidc_issuer}:aud" = "sts.amazonaws.com"
          "${var.oidc_issuer}:sub" = "system:serviceaccount:${var.namespace}:${var.service_account}"
        }
      }
    }]
  })
}

resource "aws_iam_role" "this" {
  name                 = var.name
  assume_role_policy   = local.trust_policy
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  for_each = var.inline_policies

  name   = each.key
  role   = aws_iam_role.this.id
  policy = each.value
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = toset(var.managed_policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = each.value
}
