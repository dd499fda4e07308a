# What Karpenter needs from AWS, modelled on its v1 reference CloudFormation template
# (https://karpenter.sh/docs/reference/cloudformation/): the node role and its access entry (here),
# the controller's Pod Identity role (controller.tf) and the interruption queue with its EventBridge rules
# (interruption.tf). The controller itself is a Helm release, a documented step in ../../README.md.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  aws_policy = "arn:${local.partition}:iam::aws:policy"

  # Names are fixed by the cluster name, so every ARN below is composed at plan time and the policies
  # that mention them appear in full in the plan JSON.
  node_role_name       = "${var.cluster_name}-karpenter-node"
  controller_role_name = "${var.cluster_name}-karpenter-controller"
  queue_name           = "${var.cluster_name}-karpenter-interruption"
  node_role_arn        = "arn:${local.partition}:iam::${local.account_id}:role/${local.node_role_name}"
  queue_arn            = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.queue_name}"
  cluster_arn          = "arn:${local.partition}:eks:${local.region}:${local.account_id}:cluster/${var.cluster_name}"
}

# The role of the nodes Karpenter launches. Karpenter v1 creates their instance profile itself (from
# EC2NodeClass spec.role), so there is no aws_iam_instance_profile here.
resource "aws_iam_role" "node" {
  name        = local.node_role_name
  description = "Nodes Karpenter launches for ${var.cluster_name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Ec2Instances"
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

# Composed ARNs, not data lookups: the plan needs no IAM read. Pull-only ECR access (the policy Karpenter's
# current template attaches) rather than ReadOnly, which would also let a node list and describe every
# repository of the account. No AmazonEKS_CNI_Policy: the VPC CNI has its own Pod Identity role (the eks
# module's vpc-cni add-on), so the node keeps only what the kubelet (and SSM) need.
resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",
  ])

  role       = aws_iam_role.node.name
  policy_arn = "${local.aws_policy}/${each.value}"
}

# Authentication mode API: a node joins only through an EC2_LINUX access entry (system:nodes).
resource "aws_eks_access_entry" "node" {
  cluster_name  = var.cluster_name
  principal_arn = aws_iam_role.node.arn
  type          = "EC2_LINUX"
  tags          = var.tags
}

# EKS creates the cluster security group, so it can only be tagged, not managed, from here.
resource "aws_ec2_tag" "node_security_group" {
  for_each = var.discovery_tags

  resource_id = var.node_security_group_id
  key         = each.key
  value       = each.value
}
