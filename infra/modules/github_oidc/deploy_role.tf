# The deploy workflow pushes one image, applies manifests into one namespace and, for a canary release,
# moves the weights of one listener and reads the metrics it judges the canary by: nothing else.
locals {
  # The listener's IDs are unknown until apply: its load balancer's listeners, narrowed by the tag only
  # the HTTPS listener carries (the HTTP one must stay a redirect).
  weighted_listeners = "arn:${format(local.account, "elasticloadbalancing")}:listener/app/${var.weighted_listener.load_balancer_name}/*"

  deploy_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ShiftTheCanaryWeights"
        Effect    = "Allow"
        Action    = "elasticloadbalancing:ModifyListener"
        Resource  = local.weighted_listeners
        Condition = { StringEquals = { for key, value in var.weighted_listener.tag : "aws:ResourceTag/${key}" => value } }
      },
      {
        # GetMetricData authorizes on no resource: "*" is the only valid resource.
        Sid      = "JudgeTheCanary"
        Effect   = "Allow"
        Action   = "cloudwatch:GetMetricData"
        Resource = "*"
      },
      {
        # GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
        Sid      = "LogInToEcr"
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      },
      {
        Sid    = "PushAndPullTheServiceImage"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:DescribeImageScanFindings",
          "ecr:DescribeImages",
          "ecr:GetDownloadUrlForLayer",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ]
        Resource = var.ecr_repository_arn
      },
      {
        Sid      = "FindTheCluster"
        Effect   = "Allow"
        Action   = "eks:DescribeCluster"
        Resource = var.cluster_arn
      },
    ]
  })
}

resource "aws_iam_role" "deploy" {
  name                 = var.deploy_role_name
  description          = "GitHub Actions deploys of ${var.repository} (${var.deploy_subject})"
  assume_role_policy   = local.trust_policies["deploy"]
  max_session_duration = 3600
  tags                 = var.tags

  depends_on = [aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role_policy" "deploy" {
  name   = "push-image-and-deploy"
  role   = aws_iam_role.deploy.id
  policy = local.deploy_policy
}

# Kubernetes permissions: no EKS access policy (AmazonEKSEditPolicy would grant Secrets, pods/exec,
# impersonation and service-account tokens). The access entry only maps the role to the deployer group;
# a namespaced Role bound to that group, derived from the kinds the deploy applies, grants the rest
# (rendered by the manifests for a cluster admin: Terraform's root uses the AWS provider only).
resource "aws_eks_access_entry" "deploy" {
  cluster_name      = var.cluster_name
  principal_arn     = aws_iam_role.deploy.arn
  type              = "STANDARD"
  kubernetes_groups = [var.deployer_group]
  tags              = var.tags
}
