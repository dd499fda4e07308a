# The controller's permissions, statement by statement the v1 reference policy
# (website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml in
# aws/karpenter-provider-aws), narrowed further where that template leaves room:
#   - account IDs instead of "*" in every EC2 ARN that has one;
#   - no capacity-reservation/* on RunInstances/CreateFleet: the EC2NodeClass selects no reservation,
#     and that grant would let the controller consume any reservation of the account;
#   - ssm:GetParameter on the AMI parameter paths only, not all of /aws/service/*;
#   - kms:Decrypt on the queue key through the key policy (interruption.tf), bound to this queue.
# Every write is conditioned on the tags Karpenter puts on what it creates (kubernetes.io/cluster/<name>
# = owned, eks:eks-cluster-name, karpenter.sh/nodepool or karpenter.k8s.aws/ec2nodeclass), so it can
# only touch the instances, launch templates and instance profiles it made for this cluster.
# "*" resources only where IAM has no resource-level permissions: the EC2 Describe calls (still held to
# this region), pricing:GetProducts and iam:ListInstanceProfiles.
locals {
  ec2         = "arn:${local.partition}:ec2:${local.region}"
  cluster_tag = "kubernetes.io/cluster/${var.cluster_name}"
  # What a launch creates, tagged in the same request.
  launched_resources = [for type in ["fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request"] : "${local.ec2}:${local.account_id}:${type}/*"]
  instance_profiles  = "arn:${local.partition}:iam::${local.account_id}:instance-profile/*"

  request_tagged_for_this_cluster = {
    StringEquals = {
      "aws:RequestTag/${local.cluster_tag}"          = "owned"
      "aws:RequestTag/eks:eks-cluster-name"          = var.cluster_name
      "aws:RequestTag/topology.kubernetes.io/region" = local.region
    }
    StringLike = { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass" = "*" }
  }
  resource_tagged_for_this_cluster = {
    StringEquals = {
      "aws:ResourceTag/${local.cluster_tag}"          = "owned"
      "aws:ResourceTag/topology.kubernetes.io/region" = local.region
    }
    StringLike = { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass" = "*" }
  }
  owned_node = {
    StringEquals = { "aws:ResourceTag/${local.cluster_tag}" = "owned" }
    StringLike   = { "aws:ResourceTag/karpenter.sh/nodepool" = "*" }
  }

  controller_statements = [
    {
      Sid      = "AllowScopedEC2InstanceAccessActions"
      Effect   = "Allow"
      Action   = ["ec2:RunInstances", "ec2:CreateFleet"]
      Resource = ["${local.ec2}::image/*", "${local.ec2}::snapshot/*", "${local.ec2}:${local.account_id}:security-group/*", "${local.ec2}:${local.account_id}:subnet/*"]
    },
    {
      Sid       = "AllowScopedEC2LaunchTemplateAccessActions"
      Effect    = "Allow"
      Action    = ["ec2:RunInstances", "ec2:CreateFleet"]
      Resource  = "${local.ec2}:${local.account_id}:launch-template/*"
      Condition = local.owned_node
    },
    {
      Sid      = "AllowScopedEC2InstanceActionsWithTags"
      Effect   = "Allow"
      Action   = ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"]
      Resource = local.launched_resources
      Condition = {
        StringEquals = {
          "aws:RequestTag/${local.cluster_tag}" = "owned"
          "aws:RequestTag/eks:eks-cluster-name" = var.cluster_name
        }
        StringLike = { "aws:RequestTag/karpenter.sh/nodepool" = "*" }
      }
    },
    {
      Sid      = "AllowScopedResourceCreationTagging"
      Effect   = "Allow"
      Action   = "ec2:CreateTags"
      Resource = local.launched_resources
      Condition = {
        StringEquals = {
          "aws:RequestTag/${local.cluster_tag}" = "owned"
          "aws:RequestTag/eks:eks-cluster-name" = var.cluster_name
          "ec2:CreateAction"                    = ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]
        }
        StringLike = { "aws:RequestTag/karpenter.sh/nodepool" = "*" }
      }
    },
    {
      Sid      = "AllowScopedResourceTagging"
      Effect   = "Allow"
      Action   = "ec2:CreateTags"
      Resource = "${local.ec2}:${local.account_id}:instance/*"
      Condition = merge(local.owned_node, {
        StringEqualsIfExists        = { "aws:RequestTag/eks:eks-cluster-name" = var.cluster_name }
        "ForAllValues:StringEquals" = { "aws:TagKeys" = ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"] }
      })
    },
    {
      Sid       = "AllowScopedDeletion"
      Effect    = "Allow"
      Action    = ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"]
      Resource  = ["${local.ec2}:${local.account_id}:instance/*", "${local.ec2}:${local.account_id}:launch-template/*"]
      Condition = local.owned_node
    },
    {
      Sid       = "AllowPassingInstanceRole"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = local.node_role_arn
      Condition = { StringEquals = { "iam:PassedToService" = "ec2.amazonaws.com" } }
    },
    {
      Sid       = "AllowScopedInstanceProfileCreationActions"
      Effect    = "Allow"
      Action    = "iam:CreateInstanceProfile"
      Resource  = local.instance_profiles
      Condition = local.request_tagged_for_this_cluster
    },
    {
      Sid      = "AllowScopedInstanceProfileTagActions"
      Effect   = "Allow"
      Action   = "iam:TagInstanceProfile"
      Resource = local.instance_profiles
      Condition = {
        StringEquals = merge(local.resource_tagged_for_this_cluster.StringEquals, local.request_tagged_for_this_cluster.StringEquals)
        StringLike   = merge(local.resource_tagged_for_this_cluster.StringLike, local.request_tagged_for_this_cluster.StringLike)
      }
    },
    {
      Sid       = "AllowScopedInstanceProfileActions"
      Effect    = "Allow"
      Action    = ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"]
      Resource  = local.instance_profiles
      Condition = local.resource_tagged_for_this_cluster
    },
    {
      Sid      = "AllowInstanceProfileReadActions"
      Effect   = "Allow"
      Action   = "iam:GetInstanceProfile"
      Resource = local.instance_profiles
    },
    {
      Sid      = "AllowAPIServerEndpointDiscovery"
      Effect   = "Allow"
      Action   = "eks:DescribeCluster"
      Resource = local.cluster_arn
    },
    {
      Sid      = "AllowInterruptionQueueActions"
      Effect   = "Allow"
      Action   = ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"]
      Resource = local.queue_arn
    },
    {
      Sid      = "AllowAMIParameterReads"
      Effect   = "Allow"
      Action   = "ssm:GetParameter"
      Resource = [for path in var.ami_parameter_paths : "arn:${local.partition}:ssm:${local.region}::parameter${path}*"]
    },
    {
      # Describe calls have no resource-level permissions; the region condition is what narrows them.
      Sid    = "AllowRegionalReadActions"
      Effect = "Allow"
      Action = [
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeInstances",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
      ]
      Resource  = "*"
      Condition = { StringEquals = { "aws:RequestedRegion" = local.region } }
    },
    {
      # The Price List API has no resources and answers from us-east-1 (or ap-south-1), not this region.
      Sid      = "AllowPricingReadActions"
      Effect   = "Allow"
      Action   = "pricing:GetProducts"
      Resource = "*"
    },
    {
      # A list call: IAM authorizes it on no particular instance profile.
      Sid      = "AllowUnscopedInstanceProfileListAction"
      Effect   = "Allow"
      Action   = "iam:ListInstanceProfiles"
      Resource = "*"
    },
  ]

  controller_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.controller_statements
  })
}

module "controller_role" {
  source = "../pod_identity_role"

  name            = local.controller_role_name
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account
  inline_policies = { "karpenter-controller" = local.controller_policy }
  tags            = var.tags
}
