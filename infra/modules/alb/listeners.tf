resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = aws_acm_certificate_validation.this.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  tags = var.tags
}

# Plain HTTP exists only to send clients to HTTPS.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }

  tags = var.tags
}

# Paths only the cluster may read (the metrics endpoint, scraped in-cluster): the HTTPS listener answers
# them itself, in the API's error shape, before the default forward can reach a pod. Rule priorities
# are evaluated before the default action.
resource "aws_lb_listener_rule" "internal_paths" {
  count = length(var.internal_paths) > 0 ? 1 : 0

  listener_arn = aws_lb_listener.https.arn
  priority     = 1

  action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/json"
      status_code  = "404"
      message_body = jsonencode({ status = 404, error = "not_found", detail = "Not Found" })
    }
  }

  condition {
    path_pattern {
      values = flatten([for p in var.internal_paths : [p, "${p}/*"]])
    }
  }

  tags = var.tags
}
