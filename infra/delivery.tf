# GitHub Actions: the deploy role (production environment, or the main branch) and the read-only plan role.
module "github_oidc" {
  source = "./modules/github_oidc"

  repository           = var.github_repository
  deploy_subject       = var.github_deploy_subject
  create_oidc_provider = var.create_github_oidc_provider
  deploy_role_name     = "${local.name}-github-deploy"
  plan_role_name       = "${local.name}-github-plan"
  ecr_repository_arn   = local.ecr_repository_arn
  cluster_name         = module.eks.cluster_name
  cluster_arn          = local.cluster_arn
  deployer_group       = local.service.deployer_group
  weighted_listener    = { load_balancer_name = local.name, tag = module.alb.weighted_listener_tag }
  state_bucket         = var.state_bucket
  state_key            = var.state_key
  state_kms_key_arn    = var.state_kms_key_arn
  managed_bucket_names = [module.alb.access_log_bucket]
  managed_topic_names  = [module.observability.topic_name]
  managed_queue_names  = [module.karpenter.interruption_queue_name]
  reads_dns_records    = var.route53_zone_id != null
}

# The deploy job's runner: CodeBuild inside the VPC, so the private EKS API endpoint is reachable.
module "deploy_runner" {
  source = "./modules/deploy_runner"

  name                         = "${local.name}-deployer"
  repository                   = var.github_repository
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.private_subnet_ids
  cluster_security_group_id    = module.eks.cluster_security_group_id
  github_connection_authorized = var.github_connection_authorized
}
