# bootstrap_self_managed_addons is off, so the networking add-ons are EKS managed add-ons that
# Terraform sees and upgrades. Versions default to the ones EKS recommends for the cluster version.
resource "aws_eks_addon" "vpc_cni" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "vpc-cni"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags
}

resource "aws_eks_addon" "kube_proxy" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "kube-proxy"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags
}

# CoreDNS and the CloudWatch agent run as pods: they need the nodes first.
resource "aws_eks_addon" "coredns" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "coredns"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags

  depends_on = [aws_eks_node_group.this]
}

# Container Insights (pod CPU and memory metrics the alarms read) with its own IRSA role.
module "cloudwatch_agent_role" {
  source = "../irsa_role"

  name              = "${var.name}-cloudwatch-agent"
  oidc_provider_arn = aws_iam_openid_connect_provider.this.arn
  oidc_issuer       = local.oidc_issuer
  namespace         = "amazon-cloudwatch"
  service_account   = "cloudwatch-agent"
  managed_policy_arns = [
    "${local.aws_policy}/CloudWatchAgentServerPolicy",
    "${local.aws_policy}/AWSXrayWriteOnlyAccess",
  ]
  tags = var.tags
}

resource "aws_eks_addon" "cloudwatch_observability" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "amazon-cloudwatch-observability"
  service_account_role_arn    = module.cloudwatch_agent_role.arn
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags

  depends_on = [aws_eks_node_group.this]
}
