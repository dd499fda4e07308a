module "eks" {
  source = "./modules/eks"

  name                 = local.cluster_name
  kubernetes_version   = var.kubernetes_version
  vpc_id               = module.network.vpc_id
  subnet_ids           = module.network.private_subnet_ids
  public_access_cidrs  = var.eks_public_access_cidrs
  admin_principal_arns = var.eks_admin_principal_arns
  node_instance_types  = var.node_instance_types
  node_scaling         = var.node_scaling

  load_balancer_controller = {
    # The stable and the canary group: the controller registers each track's pods into its own.
    target_group_arns = local.target_group_arn_globs
  }

  # The CloudWatch agent scrapes the service's metrics in the cluster (the load balancer answers 404 for them).
  prometheus_scrape = {
    namespace = local.service.namespace
    name      = local.service.name
    port      = local.service.port
    path      = local.service.paths.metrics
  }

  # The CloudWatch observability add-on waits for the encrypted log groups the observability module makes.
  container_insights_log_group_arns = module.observability.container_insights_log_group_arns

  # Launch template instance tags are not covered by the provider's default_tags.
  tags = local.tags
}
