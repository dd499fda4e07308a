# The runner opens connections, nobody connects to it: no ingress. HTTPS out reaches GitHub, STS, ECR
# and the EKS API endpoint (DNS to the VPC resolver is not subject to security groups).
resource "aws_security_group" "runner" {
  name        = "${var.name}-runner"
  description = "GitHub Actions runner in CodeBuild: HTTPS out only, no ingress"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-runner" })
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.runner.id
  description       = "HTTPS to GitHub, AWS APIs and the EKS API endpoint"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "cluster_api_from_runner" {
  security_group_id            = var.cluster_security_group_id
  description                  = "The deploy runner reaches the private Kubernetes API"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.runner.id
}
