module "secrets" {
  source = "./modules/secrets"

  secret_name     = local.api_keys_secret_name
  role_name       = "${local.name}-app"
  cluster_name    = module.eks.cluster_name
  namespace       = local.service.namespace
  service_account = local.service.service_account
}
