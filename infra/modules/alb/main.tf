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
# One group per track: the stable pods register into "stable", the canary's into "canary", and the HTTPS
# listener weighs them. One block, so the canary is judged and drained exactly as the stable pods are.
resource "aws_lb_target_group" "track" {
  for_each = { stable = var.target.name, canary = "${var.target.name}-canary" }

  name                 = each.value
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

# The stable group predates canary releases: it keeps its identity, never replaced.
moved {
  from = aws_lb_target_group.this
  to   = aws_lb_target_group.track["stable"]
}
