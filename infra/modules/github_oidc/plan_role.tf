# Pull requests run `terraform plan -lock=false` with this role: it reads the state object and the
# configuration of the resource types infra/ manages, and writes nothing, not even the lock file (a
# grant on `<key>.tflock` would let any branch delete the lock of a running apply).
# Every action is named (the provider's read calls for the managed types), so no `Get*` brings in a read
# of data rather than configuration: secret values, objects, log events, metric data, image layers, WAF
# request samples, EC2 passwords and console output, connection tokens. tests/infra/test_plan_role.py
# derives the services from the plan's resource types.
data "aws_region" "current" {}

locals {
  account = "${local.partition}:%s:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"

  # Calls IAM authorizes on no particular resource: "*" is their only valid resource.
  plan_unscoped_reads = [
    "cloudwatch:DescribeAlarms",
    "ec2:DescribeAddresses",
    "ec2:DescribeAddressesAttribute",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:DescribeLaunchTemplates",
    "ec2:DescribeNatGateways",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeTags",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcs",
    "eks:DescribeAddonVersions",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListenerCertificates",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "kms:ListAliases",
    "logs:DescribeLogGroups",
  ]

  # Reads that take a resource: on this account's (and region's) resources of the managed types.
  plan_scoped_reads = concat([
    "acm:DescribeCertificate",
    "acm:ListTagsForCertificate",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListTagsForResource",
    "codebuild:BatchGetProjects",
    "codeconnections:GetConnection",
    "codeconnections:ListTagsForResource",
    "ecr:DescribeRepositories",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRepositoryPolicy",
    "ecr:ListTagsForResource",
    "eks:DescribeAccessEntry",
    "eks:DescribeAddon",
    "eks:DescribeCluster",
    "eks:DescribeNodegroup",
    "eks:DescribePodIdentityAssociation",
    "eks:ListAssociatedAccessPolicies",
    "eks:ListTagsForResource",
    "events:DescribeRule",
    "events:ListTagsForResource",
    "events:ListTargetsByRule",
    "iam:GetOpenIDConnectProvider",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "logs:ListTagsForResource",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "sns:GetSubscriptionAttributes",
    "sns:GetTopicAttributes",
    "sns:ListTagsForResource",
    "sqs:GetQueueAttributes",
    "sqs:ListQueueTags",
    "wafv2:GetLoggingConfiguration",
    "wafv2:GetWebACL",
    "wafv2:GetWebACLForResource",
    "wafv2:ListTagsForResource",
    ], var.reads_dns_records ? [
    "route53:GetChange",
    "route53:GetHostedZone",
    "route53:ListResourceRecordSets",
    "route53:ListTagsForResource",
  ] : [])

  plan_scoped_resources = concat(
    [for service, resource in {
      acm             = "certificate/*"
      cloudwatch      = "alarm:*"
      codebuild       = "project/*"
      codeconnections = "connection/*"
      ecr             = "repository/*"
      eks             = "cluster/*"
      events          = "rule/*"
      kms             = "key/*"
      logs            = "log-group:*"
      secretsmanager  = "secret:*"
      wafv2           = "regional/*"
      } : "arn:${format(local.account, service)}:${resource}"
    ],
    [
      "arn:${local.partition}:cloudwatch::${data.aws_caller_identity.current.account_id}:dashboard/*",
      "arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:role/*",
      "arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/*",
      # wafv2:GetWebACLForResource is authorized on the load balancer too.
      "arn:${format(local.account, "elasticloadbalancing")}:loadbalancer/app/*",
    ],
    [for kind in ["nodegroup", "addon", "access-entry", "podidentityassociation"] : "arn:${format(local.account, "eks")}:${kind}/*"],
    # Topic and queue ARNs carry no resource type: each is named (a topic's subscriptions below it).
    flatten([for topic in var.managed_topic_names : ["arn:${format(local.account, "sns")}:${topic}", "arn:${format(local.account, "sns")}:${topic}:*"]]),
    [for queue in var.managed_queue_names : "arn:${format(local.account, "sqs")}:${queue}"],
    var.reads_dns_records ? ["arn:${local.partition}:route53:::hostedzone/*", "arn:${local.partition}:route53:::change/*"] : [],
  )

  plan_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "DescribeWhatTakesNoResource"
          Effect   = "Allow"
          Action   = local.plan_unscoped_reads
          Resource = "*"
        },
        {
          Sid      = "ReadManagedConfiguration"
          Effect   = "Allow"
          Action   = local.plan_scoped_reads
          Resource = local.plan_scoped_resources
        },
        {
          # Bucket configuration only: no object action.
          Sid    = "ReadManagedBuckets"
          Effect = "Allow"
          Action = [
            "s3:GetAccelerateConfiguration",
            "s3:GetBucketAcl",
            "s3:GetBucketCORS",
            "s3:GetBucketLogging",
            "s3:GetBucketObjectLockConfiguration",
            "s3:GetBucketOwnershipControls",
            "s3:GetBucketPolicy",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetBucketRequestPayment",
            "s3:GetBucketTagging",
            "s3:GetBucketVersioning",
            "s3:GetBucketWebsite",
            "s3:GetEncryptionConfiguration",
            "s3:GetLifecycleConfiguration",
            "s3:GetReplicationConfiguration",
            "s3:ListBucket",
          ]
          Resource = [for bucket in var.managed_bucket_names : "arn:${local.partition}:s3:::${bucket}"]
        },
        {
          # The backend lists the state's key and the workspaces' prefix (env:/), then reads the state.
          Sid       = "ListTheState"
          Effect    = "Allow"
          Action    = "s3:ListBucket"
          Resource  = "arn:${local.partition}:s3:::${var.state_bucket}"
          Condition = { StringEquals = { "s3:prefix" = [var.state_key, "env:/"] } }
        },
        {
          Sid      = "ReadTheState"
          Effect   = "Allow"
          Action   = "s3:GetObject"
          Resource = "arn:${local.partition}:s3:::${var.state_bucket}/${var.state_key}"
        },
      ],
      var.state_kms_key_arn == null ? [] : [{
        Sid      = "DecryptTheStateThroughS3"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = var.state_kms_key_arn
        Condition = {
          StringLike   = { "kms:ViaService" = "s3.*.amazonaws.com" }
          StringEquals = { "kms:EncryptionContext:aws:s3:arn" = "arn:${local.partition}:s3:::${var.state_bucket}" }
        }
      }],
    )
  })
}

resource "aws_iam_role" "plan" {
  name                 = var.plan_role_name
  description          = "Read-only terraform plan for pull requests of ${var.repository}"
  assume_role_policy   = local.trust_policies["plan"]
  max_session_duration = 3600
  tags                 = var.tags

  depends_on = [aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role_policy" "plan" {
  name   = "read-state-and-managed-configuration"
  role   = aws_iam_role.plan.id
  policy = local.plan_policy
}
