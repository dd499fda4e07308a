output "cluster_name" {
  description = "Name of the cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "Endpoint of the Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_version" {
  description = "Kubernetes version of the control plane."
  value       = aws_eks_cluster.this.version
}

output "cluster_security_group_id" {
  description = "Cluster security group EKS creates; managed nodes (and so the pods, with the VPC CNI) carry it."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "node_role_arn" {
  description = "ARN of the managed node group's IAM role."
  value       = aws_iam_role.node.arn
}

output "node_role_name" {
  description = "Name of the managed node group's IAM role."
  value       = aws_iam_role.node.name
}

output "secrets_kms_key_arn" {
  description = "ARN of the KMS key that envelope-encrypts Kubernetes secrets."
  value       = module.secrets_key.arn
}

output "load_balancer_controller_role_arn" {
  description = "Pod Identity role of the AWS Load Balancer Controller (associated with its service account here)."
  value       = module.load_balancer_controller_role.arn
}

output "cloudwatch_agent_role_arn" {
  description = "Pod Identity role of the Container Insights agent (associated through the add-on)."
  value       = module.cloudwatch_agent_role.arn
}

output "cloudwatch_agent_namespace" {
  description = "Namespace the Container Insights agent runs in (its Pod Identity role trusts its service account there)."
  value       = local.cloudwatch_agent_namespace
}

output "addons" {
  description = "Names of the EKS add-ons the cluster runs (what the manifests may rely on: metrics.k8s.io, NetworkPolicy enforcement, Pod Identity, the Secrets Store CSI driver, Container Insights)."
  value = [for a in [
    aws_eks_addon.vpc_cni, aws_eks_addon.kube_proxy, aws_eks_addon.coredns, aws_eks_addon.pod_identity_agent,
    aws_eks_addon.metrics_server, aws_eks_addon.secrets_store_csi, aws_eks_addon.cloudwatch_observability,
  ] : a.addon_name]
}

output "load_balancer_controller_service_account" {
  description = "Namespace and name of the service account the Load Balancer Controller's role is associated with (its Helm release's)."
  value       = { namespace = var.load_balancer_controller.namespace, name = var.load_balancer_controller.service_account }
}
