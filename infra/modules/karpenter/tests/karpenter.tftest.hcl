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
  mock_resource "aws_kms_key" {
    override_during = plan
    defaults        = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_sqs_queue" {
    override_during = plan
    defaults        = { arn = "arn:aws:sqs:eu-west-1:123456789012:predictor-production-karpenter-interruption" }
  }
}

variables {
  cluster_name           = "predictor-production"
  node_security_group_id = "sg-0123456789abcdef0"
  discovery_tags         = { "karpenter.sh/discovery" = "predictor-production" }
}

run "controller_role_trusts_exactly_the_karpenter_service_account" {
  command = plan

  assert {
    condition     = length(jsondecode(module.controller_role.trust_policy).Statement) == 1
    error_message = "The controller's trust policy must have exactly one statement."
  }
  assert {
    condition = jsondecode(module.controller_role.trust_policy).Statement[0].Condition == {
      StringEquals = {
        "aws:SourceAccount"                         = "123456789012"
        "aws:RequestTag/eks-cluster-arn"            = "arn:aws:eks:eu-west-1:123456789012:cluster/predictor-production"
        "aws:RequestTag/kubernetes-namespace"       = "karpenter"
        "aws:RequestTag/kubernetes-service-account" = "karpenter"
      }
    }
    error_message = "The controller role must trust (StringEquals) exactly the karpenter/karpenter service account of this cluster and account."
  }
  assert {
    condition     = jsondecode(module.controller_role.trust_policy).Statement[0].Principal == { Service = "pods.eks.amazonaws.com" }
    error_message = "The controller role must be assumed through EKS Pod Identity."
  }
  assert {
    condition     = module.controller_role.service_account == { namespace = "karpenter", name = "karpenter" }
    error_message = "The role's Pod Identity association names the controller's service account."
  }
}

run "pass_role_is_only_on_the_node_role_and_only_to_ec2" {
  command = plan

  assert {
    condition     = length([for s in jsondecode(output.controller_policy).Statement : s if contains(flatten([s.Action]), "iam:PassRole")]) == 1
    error_message = "Exactly one statement may allow iam:PassRole."
  }
  assert {
    condition = one([
      for s in jsondecode(output.controller_policy).Statement : s if contains(flatten([s.Action]), "iam:PassRole")
    ]).Resource == "arn:aws:iam::123456789012:role/predictor-production-karpenter-node"
    error_message = "iam:PassRole must name the node role's ARN and nothing else."
  }
  assert {
    condition = one([
      for s in jsondecode(output.controller_policy).Statement : s if contains(flatten([s.Action]), "iam:PassRole")
    ]).Condition == { StringEquals = { "iam:PassedToService" = "ec2.amazonaws.com" } }
    error_message = "The node role may only be passed to EC2."
  }
  assert {
    condition     = aws_iam_role.node.name == "predictor-production-karpenter-node" && output.node_role_name == "predictor-production-karpenter-node"
    error_message = "The node role's name is <cluster>-karpenter-node (the manifests' EC2NodeClass spec.role)."
  }
}

run "the_controller_policy_has_no_wildcard_actions_and_star_only_where_iam_has_no_resources" {
  command = plan

  assert {
    condition = alltrue([
      for s in jsondecode(output.controller_policy).Statement :
      alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")])
    ])
    error_message = "The controller policy must spell out every action (no *, no ec2:*, no prefix wildcards)."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(output.controller_policy).Statement : s.Effect == "Allow"
    ])
    error_message = "The controller policy only allows."
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(output.controller_policy).Statement : [
        for a in flatten([s.Action]) : startswith(a, "ec2:Describe") || contains(["pricing:GetProducts", "iam:ListInstanceProfiles"], a)
      ] if contains(flatten([s.Resource]), "*")
    ]))
    error_message = "A * resource is allowed only for EC2 Describe calls, pricing:GetProducts and iam:ListInstanceProfiles (no resource-level permissions)."
  }
  assert {
    condition = one([
      for s in jsondecode(output.controller_policy).Statement : s if contains(flatten([s.Action]), "ec2:DescribeInstances")
    ]).Condition == { StringEquals = { "aws:RequestedRegion" = "eu-west-1" } }
    error_message = "The Describe calls must be held to the cluster's region."
  }
}

run "launches_and_deletions_are_scoped_by_arn_and_cluster_tags" {
  command = plan

  assert {
    condition = alltrue([
      for s in jsondecode(output.controller_policy).Statement :
      !contains(flatten([s.Resource]), "*") if length(setintersection(flatten([s.Action]), ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate", "ec2:CreateTags", "ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"])) > 0
    ])
    error_message = "EC2 write actions must name resource ARNs, never *."
  }
  assert {
    condition = one([
      for s in jsondecode(output.controller_policy).Statement : s if s.Sid == "AllowScopedEC2InstanceActionsWithTags"
      ]).Condition == {
      StringEquals = {
        "aws:RequestTag/kubernetes.io/cluster/predictor-production" = "owned"
        "aws:RequestTag/eks:eks-cluster-name"                       = "predictor-production"
      }
      StringLike = { "aws:RequestTag/karpenter.sh/nodepool" = "*" }
    }
    error_message = "Creating instances, fleets and launch templates must require this cluster's tags and a nodepool tag in the request."
  }
  assert {
    condition = one([
      for s in jsondecode(output.controller_policy).Statement : s if contains(flatten([s.Action]), "ec2:TerminateInstances")
      ]).Condition == {
      StringEquals = { "aws:ResourceTag/kubernetes.io/cluster/predictor-production" = "owned" }
      StringLike   = { "aws:ResourceTag/karpenter.sh/nodepool" = "*" }
    }
    error_message = "Karpenter may only terminate instances it launched for this cluster."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(output.controller_policy).Statement :
      alltrue([for r in flatten([s.Resource]) : startswith(r, "arn:aws:ec2:eu-west-1:")]) if contains(flatten([s.Action]), "ec2:RunInstances")
    ])
    error_message = "Launches are held to the cluster's region by ARN."
  }
  assert {
    condition     = !anytrue([for s in jsondecode(output.controller_policy).Statement : anytrue([for r in flatten([s.Resource]) : strcontains(r, "capacity-reservation")])])
    error_message = "The controller must not be able to launch into the account's capacity reservations."
  }
  assert {
    condition = one([
      for s in jsondecode(output.controller_policy).Statement : s if contains(flatten([s.Action]), "ssm:GetParameter")
    ]).Resource == ["arn:aws:ssm:eu-west-1::parameter/aws/service/eks/optimized-ami/*"]
    error_message = "ssm:GetParameter must be held to the EKS-optimized AMI parameters."
  }
  assert {
    condition = one([
      for s in jsondecode(output.controller_policy).Statement : s if contains(flatten([s.Action]), "sqs:ReceiveMessage")
    ]).Resource == "arn:aws:sqs:eu-west-1:123456789012:predictor-production-karpenter-interruption"
    error_message = "The controller reads the one interruption queue."
  }
  assert {
    condition = one([
      for s in jsondecode(output.controller_policy).Statement : s if contains(flatten([s.Action]), "eks:DescribeCluster")
    ]).Resource == "arn:aws:eks:eu-west-1:123456789012:cluster/predictor-production"
    error_message = "The controller describes the one cluster."
  }
}

run "the_interruption_queue_is_encrypted_with_its_own_key" {
  command = plan

  assert {
    condition     = aws_sqs_queue.interruption.kms_master_key_id == module.queue_key.arn && aws_sqs_queue.interruption.kms_master_key_id != null
    error_message = "The interruption queue must be encrypted with the module's customer managed key."
  }
  assert {
    condition     = aws_sqs_queue.interruption.name == "predictor-production-karpenter-interruption" && aws_sqs_queue.interruption.message_retention_seconds == 300
    error_message = "The queue is <cluster>-karpenter-interruption and keeps messages five minutes."
  }
  assert {
    condition = one([
      for s in jsondecode(module.queue_key.policy).Statement : s if s.Sid == "EventBridgeSendsToTheInterruptionQueue"
      ]).Condition == {
      StringEquals = { "kms:EncryptionContext:aws:sqs:arn" = "arn:aws:sqs:eu-west-1:123456789012:predictor-production-karpenter-interruption" }
    }
    error_message = "EventBridge may use the key for this queue only."
  }
  assert {
    condition = one([
      for s in jsondecode(module.queue_key.policy).Statement : s if s.Sid == "ControllerReadsTheInterruptionQueue"
    ]).Principal.AWS == "arn:aws:iam::123456789012:role/predictor-production-karpenter-controller"
    error_message = "Only the controller role decrypts the queue's messages."
  }
}

run "four_eventbridge_rules_feed_the_queue" {
  command = plan

  assert {
    condition = toset([for r in aws_cloudwatch_event_rule.interruption : jsondecode(r.event_pattern)["detail-type"][0]]) == toset([
      "EC2 Spot Instance Interruption Warning",
      "EC2 Instance Rebalance Recommendation",
      "EC2 Instance State-change Notification",
      "AWS Health Event",
    ])
    error_message = "The rules must cover Spot interruption warnings, rebalance recommendations, instance state changes and AWS Health events."
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.interruption["scheduled-change"].event_pattern).detail == { service = ["EC2"], eventTypeCategory = ["scheduledChange"] }
    error_message = "The AWS Health rule forwards EC2 scheduled changes, the only Health events Karpenter acts on."
  }
  assert {
    condition     = length(aws_cloudwatch_event_target.interruption) == 4 && alltrue([for t in aws_cloudwatch_event_target.interruption : t.arn == aws_sqs_queue.interruption.arn])
    error_message = "Every rule must target the interruption queue."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_sqs_queue_policy.interruption.policy).Statement : s if s.Sid == "EventBridgeRulesOfThisModuleSend"
      ]).Condition.ArnEquals["aws:SourceArn"] == [
      for name in ["rebalance", "scheduled-change", "spot-interruption", "state-change"] : "arn:aws:events:eu-west-1:123456789012:rule/predictor-production-karpenter-${name}"
    ]
    error_message = "EventBridge may send to the queue only from this module's four rules."
  }
  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_sqs_queue_policy.interruption.policy).Statement : s.Principal.Service if s.Effect == "Allow"
    ])) == toset(["events.amazonaws.com", "sqs.amazonaws.com"])
    error_message = "Only EventBridge and SQS may send to the queue."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_sqs_queue_policy.interruption.policy).Statement : s if s.Effect == "Deny"
    ]).Condition == { Bool = { "aws:SecureTransport" = "false" } }
    error_message = "The queue must refuse plain HTTP."
  }
}

run "nodes_join_through_an_ec2_linux_access_entry_with_the_node_policies" {
  command = plan

  assert {
    condition     = aws_eks_access_entry.node.type == "EC2_LINUX" && aws_eks_access_entry.node.cluster_name == "predictor-production"
    error_message = "The node role needs an EC2_LINUX access entry on the cluster (authentication mode API)."
  }
  assert {
    condition = toset([for a in aws_iam_role_policy_attachment.node : a.policy_arn]) == toset([
      "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
      "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    ])
    error_message = "The node role carries exactly the worker, ECR pull and SSM managed policies (the CNI has its own role)."
  }
  assert {
    condition     = jsondecode(aws_iam_role.node.assume_role_policy).Statement[0].Principal == { Service = "ec2.amazonaws.com" }
    error_message = "Only EC2 instances assume the node role."
  }
  assert {
    condition     = aws_ec2_tag.node_security_group["karpenter.sh/discovery"].resource_id == "sg-0123456789abcdef0" && aws_ec2_tag.node_security_group["karpenter.sh/discovery"].value == "predictor-production"
    error_message = "The node security group carries karpenter.sh/discovery = <cluster>."
  }
}

run "cluster_names_too_long_for_the_rule_names_are_rejected" {
  command = plan

  variables {
    cluster_name = "a-cluster-name-that-is-far-too-long-x1"
  }

  expect_failures = [var.cluster_name]
}

run "ami_parameters_outside_the_public_aws_paths_are_rejected" {
  command = plan

  variables {
    ami_parameter_paths = ["/"]
  }

  expect_failures = [var.ami_parameter_paths]
}
