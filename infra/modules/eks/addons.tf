# bootstrap_self_managed_addons is off, so the networking add-ons are EKS managed add-ons that
# Terraform sees and upgrades. Versions default to the ones EKS recommends for the cluster version.
# NetworkPolicy objects are accepted by any API server but enforced only by the CNI's network policy
# agent. Set in the add-on's configuration, OVERWRITE keeps it on: a hand edit is reverted on update.
resource "aws_eks_addon" "vpc_cni" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "vpc-cni"
  configuration_values        = jsonencode({ enableNetworkPolicy = "true" })
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags
}

# The agent that hands EKS Pod Identity credentials to pods (a DaemonSet, host network: no node needed first
# to schedule it, but it runs on every node).
resource "aws_eks_addon" "pod_identity_agent" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "eks-pod-identity-agent"
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

# The resource metrics API (metrics.k8s.io) the HorizontalPodAutoscaler reads CPU from: without it the
# HPA never scales, so pods never go pending and Karpenter never adds nodes.
resource "aws_eks_addon" "metrics_server" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "metrics-server"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags

  depends_on = [aws_eks_node_group.this]
}

# The Secrets Store CSI driver with the AWS provider (ASCP): mounts Secrets Manager secrets as files in pods
# (secrets-store.csi.k8s.io, SecretProviderClass provider "aws"). The provider fetches with the mounting
# pod's own identity, so the add-on itself needs no role.
# Rotation: the driver re-fetches every mounted secret each poll interval and rewrites the file, so a key
# put into Secrets Manager reaches running pods without a restart (the app re-reads the file when it
# changes). The add-on takes the driver chart's values under "secrets-store-csi-driver", as the AWS
# provider's own add-on test does (aws/secrets-store-csi-driver-provider-aws, tests/addon_config_values.yaml).
resource "aws_eks_addon" "secrets_store_csi" {
  cluster_name = aws_eks_cluster.this.name
  addon_name   = "aws-secrets-store-csi-driver-provider"
  configuration_values = jsonencode({
    # A rotated key is live in every pod within two minutes (plus the app's one-second file check).
    "secrets-store-csi-driver" = { enableSecretRotation = true, rotationPollInterval = "2m" }
  })
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags

  depends_on = [aws_eks_node_group.this]
}

# Container Insights (pod CPU and memory metrics the alarms read) with its own IRSA role. The add-on
# installs its agent in this namespace; the service's NetworkPolicy admits scrapes from it.
locals {
  cloudwatch_agent_namespace = "amazon-cloudwatch"
}

module "cloudwatch_agent_role" {
  source = "../irsa_role"

  name              = "${var.name}-cloudwatch-agent"
  oidc_provider_arn = aws_iam_openid_connect_provider.this.arn
  oidc_issuer       = local.oidc_issuer
  namespace         = local.cloudwatch_agent_namespace
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

  # The agent creates any log group it finds missing, unencrypted and kept forever: the caller's
  # encrypted groups with a retention must exist first.
  depends_on = [aws_eks_node_group.this, var.container_insights_log_group_arns]
}
