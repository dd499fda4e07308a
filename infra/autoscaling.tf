# Node autoscaling: Karpenter's AWS side (controller role, node role and access entry, interruption queue
# and rules, discovery tag on the node security group). The controller is a Helm release of `make cluster-bootstrap`.
module "karpenter" {
  source = "./modules/karpenter"

  cluster_name           = module.eks.cluster_name
  node_security_group_id = module.eks.cluster_security_group_id
  discovery_tags         = local.karpenter_discovery_tags
}
