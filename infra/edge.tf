module "alb" {
  source = "./modules/alb"

  name                   = local.name
  vpc_id                 = module.network.vpc_id
  public_subnet_ids      = module.network.public_subnet_ids
  node_security_group_id = module.eks.cluster_security_group_id
  ingress_cidrs          = var.alb_ingress_cidrs
  domain_name            = var.domain_name
  route53_zone_id        = var.route53_zone_id
  deletion_protection    = var.alb_deletion_protection
  idle_timeout_seconds   = local.load_balancer_settings.idle_timeout_seconds
  ssl_policy             = local.load_balancer_settings.tls_policy

  # The metrics endpoint is scraped inside the cluster; from the internet it is a 404.
  internal_paths = [local.service.paths.metrics]

  backend_keep_alive_timeout_seconds = local.service.server.keep_alive_timeout_seconds

  target = {
    name                          = local.target_group_name
    port                          = local.service.port
    health_check_path             = local.service.paths.readiness
    health_check_interval_seconds = local.load_balancer_settings.health_check.interval_seconds
    health_check_timeout_seconds  = local.load_balancer_settings.health_check.timeout_seconds
    healthy_threshold             = local.load_balancer_settings.health_check.healthy_threshold
    unhealthy_threshold           = local.load_balancer_settings.health_check.unhealthy_threshold
    deregistration_delay_seconds  = local.load_balancer_settings.deregistration_delay_seconds
  }
}
