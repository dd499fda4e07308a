# The runner's own role: write its logs, attach to the VPC, use the GitHub connection. Nothing else: the
# deploy job assumes the deploy role through GitHub's OIDC token, exactly as on a GitHub-hosted runner.
resource "aws_iam_role" "runner" {
  name = "${var.name}-codebuild"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "codebuild.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnEquals    = { "aws:SourceArn" = local.project_arn }
      }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "runner" {
  name = "codebuild-runner"
  role = aws_iam_role.runner.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteBuildLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${local.log_group_arn}:*"
      },
      {
        Sid      = "DescribeTheVpcToAttach"
        Effect   = "Allow"
        Action   = ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"]
        Resource = "*"
      },
      {
        Sid    = "AttachToTheVpc"
        Effect = "Allow"
        Action = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]
        Resource = [
          "${local.ec2_arn}:network-interface/*",
          "${local.ec2_arn}:subnet/*",
          "${local.ec2_arn}:security-group/*",
        ]
      },
      {
        Sid       = "LetCodeBuildUseItsInterface"
        Effect    = "Allow"
        Action    = "ec2:CreateNetworkInterfacePermission"
        Resource  = "${local.ec2_arn}:network-interface/*"
        Condition = { StringEquals = { "ec2:AuthorizedService" = "codebuild.amazonaws.com" } }
      },
      {
        Sid    = "UseTheGitHubConnection"
        Effect = "Allow"
        Action = [
          "codeconnections:GetConnection", "codeconnections:GetConnectionToken", "codeconnections:UseConnection",
          "codestar-connections:GetConnection", "codestar-connections:GetConnectionToken", "codestar-connections:UseConnection",
        ]
        Resource = local.connections_arn
      },
    ]
  })
}
