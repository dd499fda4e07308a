# bootstrap_self_managed_addons is off, so the networking add-ons are EKS managed add-ons that
# Terraform sees and upgrades. Versions default to the ones EKS recommends for the cluster version.
# NetworkPolicy objects are accepted by any API server but enforced only by the CNI's network policy
# agent. Set in the add-on's configuration, OVERWRITE keeps it on: a hand edit is reverted on update.
# The CNI assigns pod IPs with its own Pod Identity role (AmazonEKS_CNI_Policy), not the node role's, so
# the node roles keep only what the kubelet needs.
resource "aws_eks_addon" "vpc_cni" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "vpc-cni"
  configuration_values        = jsonencode({ enableNetworkPolicy = "true" })
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags

  pod_identity_association {
    service_account = module.vpc_cni_role.service_account.name
    role_arn        = module.vpc_cni_role.arn
  }

  # Pod Identity credentials come from the agent: it must run before the CNI asks for them.
  depends_on = [aws_eks_addon.pod_identity_agent]
}

module "vpc_cni_role" {
  source = "../pod_identity_role"

  name                = "${var.name}-vpc-cni"
  cluster_name        = aws_eks_cluster.this.name
  namespace           = "kube-system"
  service_account     = "aws-node"
  associated_by_addon = true
  managed_policy_arns = ["${local.aws_policy}/AmazonEKS_CNI_Policy"]
  tags                = var.tags
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
# pod's own identity (its Pod Identity association; SecretProviderClass usePodIdentity), so the add-on
# itself needs no role.
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

# Container Insights (pod CPU and memory metrics the alarms read) with its own Pod Identity role. The add-on
# installs its agent in this namespace; the service's NetworkPolicy admits scrapes from it.
locals {
  cloudwatch_agent_namespace = "amazon-cloudwatch"
}

module "cloudwatch_agent_role" {
  source = "../pod_identity_role"

  name                = "${var.name}-cloudwatch-agent"
  cluster_name        = aws_eks_cluster.this.name
  namespace           = local.cloudwatch_agent_namespace
  service_account     = "cloudwatch-agent"
  associated_by_addon = true
  managed_policy_arns = [
    "${local.aws_policy}/CloudWatchAgentServerPolicy",
    "${local.aws_policy}/AWSXrayWriteOnlyAccess",
  ]
  tags = var.tags
}

# The agent also scrapes the service's pods for Prometheus metrics (kubernetes_sd in the service's
# namespace, pods by their app.kubernetes.io/part-of label, so a release's canary pods too, the card's
# port and metrics path) and turns the
# request counter (by route and status) and the request-duration summary's _sum and _count (by route and
# method: sum / count is the average latency) into CloudWatch metrics (EMF). agent.config replaces the
# add-on's default agent configuration, so Container Insights' enhanced metrics are restated in it. The
# agent drops Prometheus histograms, so the app's latency is a summary; percentiles are the load
# balancer's TargetResponseTime, which the alarms read.
locals {
  scrape = var.prometheus_scrape
  prometheus_scrape_config = {
    global = { scrape_interval = "1m", scrape_timeout = "10s" }
    scrape_configs = [{
      job_name              = local.scrape.name
      metrics_path          = local.scrape.path
      kubernetes_sd_configs = [{ role = "pod", namespaces = { names = [local.scrape.namespace] } }]
      relabel_configs = [
        { source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_part_of"], action = "keep", regex = local.scrape.name },
        { source_labels = ["__meta_kubernetes_pod_container_port_number"], action = "keep", regex = tostring(local.scrape.port) },
        { source_labels = ["__meta_kubernetes_namespace"], target_label = "Namespace" },
        { source_labels = ["__meta_kubernetes_pod_name"], target_label = "pod_name" },
      ]
    }]
  }
  service_metrics = {
    metric_namespace = "ContainerInsights/Prometheus"
    metric_declaration = [
      {
        source_labels    = ["job"]
        label_matcher    = "^${local.scrape.name}$"
        dimensions       = [["ClusterName", "Namespace", "route", "status"], ["ClusterName", "Namespace"]]
        metric_selectors = ["^${replace(local.scrape.name, "-", "_")}_http_requests_total$"]
      },
      {
        source_labels    = ["job"]
        label_matcher    = "^${local.scrape.name}$"
        dimensions       = [["ClusterName", "Namespace", "route", "method"], ["ClusterName", "Namespace"]]
        metric_selectors = ["^${replace(local.scrape.name, "-", "_")}_http_request_duration_seconds_(sum|count)$"]
      },
      {
        source_labels    = ["job"]
        label_matcher    = "^${local.scrape.name}$"
        dimensions       = [["ClusterName", "Namespace"]]
        metric_selectors = ["^${replace(local.scrape.name, "-", "_")}_http_requests_in_flight$"]
      },
    ]
  }
  cloudwatch_agent_configuration = {
    agent = {
      config = {
        logs = {
          metrics_collected = {
            kubernetes = { enhanced_container_insights = true }
            prometheus = { cluster_name = var.name, prometheus_config_path = "/etc/prometheusconfig/prometheus.yaml", emf_processor = local.service_metrics }
          }
        }
      }
      prometheus = { config = local.prometheus_scrape_config }
    }
  }
}

resource "aws_eks_addon" "cloudwatch_observability" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "amazon-cloudwatch-observability"
  configuration_values        = jsonencode(local.cloudwatch_agent_configuration)
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = var.tags

  pod_identity_association {
    service_account = module.cloudwatch_agent_role.service_account.name
    role_arn        = module.cloudwatch_agent_role.arn
  }

  # The agent creates any log group it finds missing, unencrypted and kept forever: the caller's
  # encrypted groups with a retention must exist first.
  depends_on = [aws_eks_node_group.this, aws_eks_addon.pod_identity_agent, var.container_insights_log_group_arns]
}
