output "account_id" {
  description = "AWS account of the infrastructure."
  value       = var.account_id
}

output "region" {
  description = "AWS region of the infrastructure."
  value       = var.region
}

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "vpc_id" {
  description = "VPC of the cluster (the Load Balancer Controller's --aws-vpc-id, since pods cannot reach IMDS)."
  value       = module.network.vpc_id
}

output "ecr_repository_url" {
  description = "ECR repository URL, the prefix of the image reference the pipeline pushes."
  value       = module.ecr.repository_url
}

output "target_group_arn" {
  description = "Target group the manifests' TargetGroupBinding binds the service to."
  value       = module.alb.target_group_arn
}

output "canary_target_group_arn" {
  description = "Target group the canary's TargetGroupBinding binds its pods to; the HTTPS listener weighs it against target_group_arn."
  value       = module.alb.canary_target_group_arn
}

output "https_listener_arn" {
  description = "HTTPS listener whose weights a release moves between target_group_arn (stable) and canary_target_group_arn."
  value       = module.alb.https_listener_arn
}

output "alb_arn_suffix" {
  description = "LoadBalancer dimension of the load balancer's CloudWatch metrics."
  value       = module.alb.alb_arn_suffix
}

output "canary_target_group_arn_suffix" {
  description = "TargetGroup dimension of the canary group's CloudWatch metrics, which a release's analysis reads."
  value       = module.alb.canary_target_group_arn_suffix
}

output "certificate_arn" {
  description = "ACM certificate served by the HTTPS listener (also for an Ingress-based exposure)."
  value       = module.alb.certificate_arn
}

output "certificate_validation_records" {
  description = "DNS records to publish when route53_zone_id is null."
  value       = module.alb.certificate_validation_records
}

output "alb_dns_name" {
  description = "DNS name of the ALB."
  value       = module.alb.alb_dns_name
}

output "alb_security_group_id" {
  description = "Security group of the ALB."
  value       = module.alb.security_group_id
}

output "deploy_role_arn" {
  description = "Role the deploy workflow assumes."
  value       = module.github_oidc.deploy_role_arn
}

output "plan_role_arn" {
  description = "Read-only role pull-request workflows assume for terraform plan."
  value       = module.github_oidc.plan_role_arn
}

output "app_role_arn" {
  description = "Pod Identity role of the service, associated with its service account (from the service card)."
  value       = module.secrets.role_arn
}

output "api_keys_secret_name" {
  description = "Secrets Manager secret holding the client API keys of POST /predict (one per line), mounted into the pods."
  value       = module.secrets.secret_name
}

output "load_balancer_controller_role_arn" {
  description = "Pod Identity role of the AWS Load Balancer Controller, associated with load_balancer_controller_service_account."
  value       = module.eks.load_balancer_controller_role_arn
}

output "load_balancer_controller_service_account" {
  description = "Namespace and name of the service account the Load Balancer Controller's role is associated with (make cluster-bootstrap creates it)."
  value       = module.eks.load_balancer_controller_service_account
}

output "karpenter_node_role_name" {
  description = "IAM role of the nodes Karpenter launches, <cluster_name>-karpenter-node (EC2NodeClass spec.role)."
  value       = module.karpenter.node_role_name
}

output "karpenter_controller_role_arn" {
  description = "Pod Identity role of the Karpenter controller, associated with karpenter_controller_service_account."
  value       = module.karpenter.controller_role_arn
}

output "karpenter_controller_service_account" {
  description = "Namespace and name of the service account the Karpenter controller's role is associated with (make cluster-bootstrap creates it)."
  value       = { namespace = module.karpenter.namespace, name = module.karpenter.service_account }
}

output "karpenter_interruption_queue_name" {
  description = "SQS queue of interruption events (Helm: settings.interruptionQueue)."
  value       = module.karpenter.interruption_queue_name
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = module.observability.topic_arn
}

output "namespace" {
  description = "Kubernetes namespace of the service (from the service card)."
  value       = local.service.namespace
}

output "service_account" {
  description = "Kubernetes service account of the service (from the service card)."
  value       = local.service.service_account
}

output "alb_subnet_cidrs" {
  description = "CIDRs of the ALB's subnets: the only sources the NetworkPolicy admits to the app port (besides the kubelet's probes)."
  value       = module.network.public_subnet_cidrs
}

output "metrics_scraper_namespace" {
  description = "Namespace of the in-cluster metrics scraper (the CloudWatch agent): the only pods the NetworkPolicy admits besides the ALB's subnets."
  value       = module.eks.cloudwatch_agent_namespace
}

output "vpc_cidr" {
  description = "CIDR of the VPC (the EKS API endpoint's ENIs and the VPC resolver live in it)."
  value       = module.network.vpc_cidr_block
}

output "cluster_addons" {
  description = "EKS add-ons terraform apply installs (what the bootstrap command must not install again)."
  value       = module.eks.addons
}

output "deploy_runner_project" {
  description = "CodeBuild project of the deploy runner: the repository variable DEPLOY_RUNNER_PROJECT."
  value       = module.deploy_runner.project_name
}

output "deploy_runner_label" {
  description = "The runs-on label of the deploy job (codebuild-<project>-<run_id>-<run_attempt>)."
  value       = module.deploy_runner.runs_on_label
}

output "deploy_runner_connection_arn" {
  description = "GitHub connection an admin authorises once in the console, before github_connection_authorized = true."
  value       = module.deploy_runner.connection_arn
}

output "deploy_runner_security_group_id" {
  description = "Security group of the deploy runner (the cluster API admits it on 443)."
  value       = module.deploy_runner.security_group_id
}

output "container_insights_log_groups" {
  description = "Container Insights log groups Terraform creates before the CloudWatch observability add-on."
  value       = module.observability.container_insights_log_group_names
}

output "metrics_path" {
  description = "Path the ALB answers 404 for (from the service card); the CloudWatch agent scrapes it in the cluster."
  value       = local.service.paths.metrics
}
