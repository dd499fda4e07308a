locals {
  weighted_listener_tag = { TrafficWeightedBy = "release" }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = aws_acm_certificate_validation.this.certificate_arn

  # Weighted between the stable and the canary group. A release moves the weights (ModifyListener on
  # this listener only) and always ends at stable 100 / canary 0 (promoted or not); Terraform writes them
  # once and ignores them after, so neither undoes the other. The set is ignored whole (Terraform cannot
  # address one member's weight): a replaced group fails to delete while this listener forwards to it,
  # it never drifts silently.
  default_action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.track["stable"].arn
        weight = 100
      }

      target_group {
        arn    = aws_lb_target_group.track["canary"].arn
        weight = 0
      }
    }
  }

  # Only this listener of the load balancer carries the tag the deploy role's ModifyListener requires.
  tags = merge(var.tags, local.weighted_listener_tag)

  lifecycle {
    ignore_changes = [default_action[0].forward[0].target_group]
  }
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
