resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Clients to the ALB on 80/443; the ALB to the pods on the service port only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  for_each = toset(var.ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from clients"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "http" {
  for_each = toset(var.ingress_cidrs)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from clients, answered only with a redirect to HTTPS"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "to_pods" {
  security_group_id            = aws_security_group.alb.id
  description                  = "Forward and health-check to the pods on the service port"
  ip_protocol                  = "tcp"
  from_port                    = var.target.port
  to_port                      = var.target.port
  referenced_security_group_id = var.node_security_group_id
}

resource "aws_vpc_security_group_ingress_rule" "pods_from_alb" {
  security_group_id            = var.node_security_group_id
  description                  = "The ALB reaches the pods on the service port"
  ip_protocol                  = "tcp"
  from_port                    = var.target.port
  to_port                      = var.target.port
  referenced_security_group_id = aws_security_group.alb.id
}
