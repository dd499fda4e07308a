resource "aws_lb" "this" {
  name                       = var.name
  internal                   = false
  load_balancer_type         = "application"
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  idle_timeout               = var.idle_timeout_seconds
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_deletion_protection = var.deletion_protection
  enable_http2               = true

  access_logs {
    bucket  = aws_s3_bucket.access_logs.id
    prefix  = local.access_log_prefix
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_s3_bucket_policy.access_logs]
}

# Type ip: pods are registered directly (TargetGroupBinding), so draining follows the pod, not a node.
# Two groups: the stable pods register into `this` (its address predates canary releases, so it keeps
# its identity and is never replaced), the canary's pods into `canary`; the HTTPS listener weighs them.
# The canary's settings are the stable group's, field for field (the module's tests hold them equal).
resource "aws_lb_target_group" "this" {
  name                 = var.target.name
  target_type          = "ip"
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  port                 = var.target.port
  vpc_id               = var.vpc_id
  deregistration_delay = var.target.deregistration_delay_seconds

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.target.health_check_path
    matcher             = "200"
    interval            = var.target.health_check_interval_seconds
    timeout             = var.target.health_check_timeout_seconds
    healthy_threshold   = var.target.healthy_threshold
    unhealthy_threshold = var.target.unhealthy_threshold
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lb_target_group" "canary" {
  name                 = "${var.target.name}-canary"
  target_type          = "ip"
  protocol             = "HTTP"
  protocol_version     = "HTTP1"
  port                 = var.target.port
  vpc_id               = var.vpc_id
  deregistration_delay = var.target.deregistration_delay_seconds

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.target.health_check_path
    matcher             = "200"
    interval            = var.target.health_check_interval_seconds
    timeout             = var.target.health_check_timeout_seconds
    healthy_threshold   = var.target.healthy_threshold
    unhealthy_threshold = var.target.unhealthy_threshold
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}
