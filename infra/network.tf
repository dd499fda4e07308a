module "network" {
  source = "./modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = local.availability_zones
  single_nat_gateway = var.single_nat_gateway

  # Karpenter's EC2NodeClass selects the subnets of new nodes by this tag: the private ones only.
  private_subnet_tags = local.karpenter_discovery_tags
}
