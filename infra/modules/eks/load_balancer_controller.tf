# The AWS Load Balancer Controller only binds pods to the target group Terraform owns
# (TargetGroupBinding): it never creates load balancers or security groups here, so its policy is
# the read calls it makes plus target (de)registration on the given target groups. Describe calls
# have no resource-level permissions in IAM, hence their "*" resource.
locals {
  load_balancer_controller_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ReadLoadBalancingAndNetworkState"
        Effect = "Allow"
        Action = [
          "ec2:DescribeAvailabilityZones",
          "ec2:DescribeInstances",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets",
          "ec2:DescribeVpcs",
          "elasticloadbalancing:DescribeListeners",
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeTags",
          "elasticloadbalancing:DescribeTargetGroupAttributes",
          "elasticloadbalancing:DescribeTargetGroups",
          "elasticloadbalancing:DescribeTargetHealth",
        ]
        Resource = "*"
      },
      {
        Sid      = "RegisterPodsIntoOwnTargetGroups"
        Effect   = "Allow"
        Action   = ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"]
        Resource = var.load_balancer_controller.target_group_arns
      },
    ]
  })
}

module "load_balancer_controller_role" {
  source = "../pod_identity_role"

  name            = "${var.name}-aws-load-balancer-controller"
  cluster_name    = aws_eks_cluster.this.name
  namespace       = var.load_balancer_controller.namespace
  service_account = var.load_balancer_controller.service_account
  inline_policies = { "target-group-binding" = local.load_balancer_controller_policy }
  tags            = var.tags
}
