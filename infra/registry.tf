module "ecr" {
  source = "./modules/ecr"

  name = local.service.name
}
