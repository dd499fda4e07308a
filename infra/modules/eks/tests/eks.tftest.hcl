mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
}

variables {
  name                 = "predictor-production"
  vpc_id               = "vpc-0123456789abcdef0"
  subnet_ids           = ["subnet-a", "subnet-b", "subnet-c"]
  admin_principal_arns = ["arn:aws:iam::123456789012:role/platform-admin"]
  load_balancer_controller = {
    target_group_arns = ["arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/predictor-production/*"]
  }
  prometheus_scrape = { namespace = "predictor", name = "predictor", port = 8000, path = "/metrics" }
}

run "control_plane_is_private_encrypted_and_fully_logged" {
  command = plan

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_private_access && !aws_eks_cluster.this.vpc_config[0].endpoint_public_access
    error_message = "By default the API endpoint is private only."
  }
  assert {
    condition     = aws_eks_cluster.this.encryption_config[0].resources == toset(["secrets"])
    error_message = "Kubernetes secrets must be envelope-encrypted."
  }
  assert {
    condition     = aws_eks_cluster.this.enabled_cluster_log_types == toset(["api", "audit", "authenticator", "controllerManager", "scheduler"])
    error_message = "Every control-plane log type must be on."
  }
  assert {
    condition     = aws_eks_cluster.this.access_config[0].authentication_mode == "API" && !aws_eks_cluster.this.access_config[0].bootstrap_cluster_creator_admin_permissions
    error_message = "Access is managed by access entries only; the creator gets nothing implicitly."
  }
  assert {
    condition     = aws_eks_access_policy_association.admin["arn:aws:iam::123456789012:role/platform-admin"].access_scope[0].type == "cluster"
    error_message = "Admins get a cluster-scoped access entry."
  }
  assert {
    condition     = aws_cloudwatch_log_group.cluster.name == "/aws/eks/predictor-production/cluster" && aws_cloudwatch_log_group.cluster.retention_in_days == 365
    error_message = "The control-plane log group is pre-created with a retention."
  }
}

run "public_endpoint_only_for_the_given_cidrs" {
  command = plan

  variables {
    public_access_cidrs = ["203.0.113.0/24"]
  }

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_public_access && aws_eks_cluster.this.vpc_config[0].public_access_cidrs == toset(["203.0.113.0/24"])
    error_message = "The public endpoint must be limited to the given CIDRs."
  }
}

run "an_open_public_endpoint_is_rejected" {
  command = plan

  variables {
    public_access_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.public_access_cidrs]
}

run "a_cluster_without_admins_is_rejected" {
  command = plan

  variables {
    admin_principal_arns = []
  }

  expect_failures = [var.admin_principal_arns]
}

run "nodes_require_imdsv2_and_encrypted_disks_in_private_subnets" {
  command = plan

  assert {
    condition     = aws_launch_template.node.metadata_options[0].http_tokens == "required" && aws_launch_template.node.metadata_options[0].http_put_response_hop_limit == 1
    error_message = "Nodes must require IMDSv2 with a hop limit of 1 (pods cannot reach node credentials)."
  }
  assert {
    condition     = aws_launch_template.node.block_device_mappings[0].ebs[0].encrypted == "true"
    error_message = "Node root volumes must be encrypted."
  }
  assert {
    condition     = aws_eks_node_group.this.subnet_ids == toset(var.subnet_ids)
    error_message = "Nodes run in the private subnets."
  }
}

run "container_insights_and_load_balancer_controller_get_their_own_roles" {
  command = plan

  assert {
    condition     = one(aws_eks_addon.cloudwatch_observability.pod_identity_association).service_account == "cloudwatch-agent" && module.cloudwatch_agent_role.service_account.namespace == "amazon-cloudwatch"
    error_message = "The CloudWatch agent gets its Pod Identity role through the add-on, for the service account its trust names."
  }
  assert {
    condition     = module.load_balancer_controller_role.service_account == { namespace = "kube-system", name = "aws-load-balancer-controller" }
    error_message = "The controller's role is associated with its Helm release's service account."
  }

  assert {
    condition     = aws_eks_addon.cloudwatch_observability.addon_name == "amazon-cloudwatch-observability"
    error_message = "The Container Insights add-on must be installed."
  }
  assert {
    condition = one([
      for s in jsondecode(local.load_balancer_controller_policy).Statement : tolist(s.Resource) if contains(s.Action, "elasticloadbalancing:RegisterTargets")
    ]) == tolist(var.load_balancer_controller.target_group_arns)
    error_message = "The controller may register targets only into the given target groups."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(local.load_balancer_controller_policy).Statement :
      alltrue([for a in s.Action : !strcontains(a, "*")])
    ])
    error_message = "The controller's policy lists its actions; no wildcards."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(local.load_balancer_controller_policy).Statement :
      s.Resource != "*" || alltrue([for a in s.Action : strcontains(a, ":Describe")])
    ])
    error_message = "Only Describe calls (which have no resource-level permissions) may use the * resource."
  }
}

run "the_cni_has_its_own_role_and_nodes_keep_only_what_the_kubelet_needs" {
  command = plan

  assert {
    condition     = one(aws_eks_addon.vpc_cni.pod_identity_association).service_account == "aws-node" && module.vpc_cni_role.service_account == { namespace = "kube-system", name = "aws-node" }
    error_message = "The VPC CNI add-on must get its own Pod Identity role, for aws-node in kube-system."
  }
  assert {
    condition     = !contains([for a in aws_iam_role_policy_attachment.node : a.policy_arn], "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy")
    error_message = "AmazonEKS_CNI_Policy belongs on the CNI's role, not on the node role."
  }
  assert {
    condition     = jsondecode(module.vpc_cni_role.trust_policy).Statement[0].Principal == { Service = "pods.eks.amazonaws.com" }
    error_message = "The CNI's role is assumed through EKS Pod Identity."
  }
}

run "cluster_capabilities_are_eks_add_ons" {
  command = plan

  variables {
    container_insights_log_group_arns = ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/containerinsights/predictor-production/application"]
  }

  assert {
    condition     = jsondecode(aws_eks_addon.vpc_cni.configuration_values).enableNetworkPolicy == "true"
    error_message = "The VPC CNI add-on must enforce NetworkPolicy (enableNetworkPolicy in its configuration)."
  }
  assert {
    condition     = aws_eks_addon.vpc_cni.resolve_conflicts_on_update == "OVERWRITE"
    error_message = "Updates must put the add-on's configuration back over hand edits, so enforcement stays on."
  }
  assert {
    condition     = aws_eks_addon.metrics_server.addon_name == "metrics-server"
    error_message = "metrics-server (the HPA's resource metrics) must be an add-on."
  }
  assert {
    condition     = aws_eks_addon.pod_identity_agent.addon_name == "eks-pod-identity-agent"
    error_message = "The EKS Pod Identity agent must be an add-on."
  }
  assert {
    condition     = aws_eks_addon.secrets_store_csi.addon_name == "aws-secrets-store-csi-driver-provider"
    error_message = "The Secrets Store CSI driver with the AWS provider must be an add-on."
  }
  assert {
    condition     = jsondecode(aws_eks_addon.secrets_store_csi.configuration_values)["secrets-store-csi-driver"].enableSecretRotation
    error_message = "The CSI driver must re-fetch mounted secrets, so a rotated API key reaches running pods."
  }
  assert {
    condition = toset(output.addons) == toset([
      "vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "metrics-server",
      "aws-secrets-store-csi-driver-provider", "amazon-cloudwatch-observability",
    ])
    error_message = "The addons output must name every add-on the module installs."
  }
}
