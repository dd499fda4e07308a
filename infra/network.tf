module "network" {
  source = "./modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  az_count           = 3
  single_nat_gateway = var.single_nat_gateway
}
