module "secrets" {
  source = "./modules/secrets"

  secret_name       = local.api_keys_secret_name
  role_name         = "${local.name}-app"
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  namespace         = local.service.namespace
  service_account   = local.service.service_account
}
