# One IAM role for one Kubernetes service account through EKS Pod Identity. The trust names the EKS Pod
# Identity service and this account (aws:SourceAccount), and pins the session tags EKS puts on every
# assumption (the cluster ARN, the namespace, the service account), so even a wrong association in the
# account cannot hand the role to another pod. Every value is known at plan time: no cluster attribute.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  cluster_arn = "arn:${data.aws_partition.current.partition}:eks:${data.aws_region.current.name}:${local.account_id}:cluster/${var.cluster_name}"
  trust_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AssumeFromOneServiceAccountThroughPodIdentity"
      Effect    = "Allow"
      Action    = ["sts:AssumeRole", "sts:TagSession"]
      Principal = { Service = "pods.eks.amazonaws.com" }
      Condition = {
        StringEquals = {
          "aws:SourceAccount"                         = local.account_id
          "aws:RequestTag/eks-cluster-arn"            = local.cluster_arn
          "aws:RequestTag/kubernetes-namespace"       = var.namespace
          "aws:RequestTag/kubernetes-service-account" = var.service_account
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

# An EKS add-on makes its own association (its pod_identity_association block) for the service account
# it installs; every other service account gets this one.
resource "aws_eks_pod_identity_association" "this" {
  count = var.associated_by_addon ? 0 : 1

  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account
  role_arn        = aws_iam_role.this.arn
  tags            = var.tags
}
