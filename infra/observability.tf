module "observability" {
  source = "./modules/observability"

  name                                  = local.name
  cluster_name                          = module.eks.cluster_name
  namespace                             = local.service.namespace
  workload_name                         = local.service.name
  alb_arn_suffix                        = module.alb.alb_arn_suffix
  target_group_arn_suffix               = module.alb.target_group_arn_suffix
  alarm_email                           = var.alarm_email
  thresholds                            = var.alarm_thresholds
  min_healthy_targets                   = var.min_replicas
  latency_objective_seconds             = var.latency_objective_p99_seconds
  container_insights_log_retention_days = var.container_insights_log_retention_days
}
