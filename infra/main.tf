# The root configuration composes the local modules. Everything the service itself defines (port,
# health path, timings, names) comes from the service card, never retyped here.
data "aws_partition" "current" {}

locals {
  service = jsondecode(file("${path.module}/../api/service.json"))

  name = "${local.service.name}-${var.environment}"
  # The cluster's name. The subnets' Karpenter discovery tag takes it from here: module.eks.cluster_name
  # would be a cycle (the cluster needs the subnets).
  cluster_name             = local.name
  karpenter_discovery_tags = { "karpenter.sh/discovery" = local.cluster_name }
  # Three zones: the issue's spread, and what zone-spread pod scheduling assumes.
  availability_zones = var.availability_zones != null ? var.availability_zones : [for suffix in ["a", "b", "c"] : "${var.region}${suffix}"]
  partition          = data.aws_partition.current.partition

  tags = merge(var.tags, {
    Service     = local.service.name
    Environment = var.environment
    ManagedBy   = "terraform"
    Repository  = var.github_repository
  })

  # ARNs composed from account, region and names, so that every policy that mentions them is known
  # at plan time and readable by the policy gates in the plan JSON.
  arn_prefix             = "arn:${local.partition}"
  target_group_name      = local.name
  target_group_arn_globs = [for name in [local.target_group_name, "${local.target_group_name}-canary"] : "${local.arn_prefix}:elasticloadbalancing:${var.region}:${var.account_id}:targetgroup/${name}/*"]
  ecr_repository_arn     = "${local.arn_prefix}:ecr:${var.region}:${var.account_id}:repository/${module.ecr.repository_name}"
  cluster_arn            = "${local.arn_prefix}:eks:${var.region}:${var.account_id}:cluster/${module.eks.cluster_name}"
  api_keys_secret_name   = "${local.service.name}/${var.environment}/api-keys"
  load_balancer_settings = local.service.load_balancer
}
