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
  mock_data "aws_elb_service_account" {
    defaults = { arn = "arn:aws:iam::156460612806:root" }
  }
  mock_resource "aws_lb" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/predictor-production/0123456789abcdef"
      arn_suffix = "app/predictor-production/0123456789abcdef"
      dns_name   = "predictor-production-123.eu-west-1.elb.amazonaws.com"
      zone_id    = "Z32O12XQLNTSW2"
    }
  }
  mock_resource "aws_lb_target_group" {
    defaults = {
      arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/predictor-production/0123456789abcdef"
      arn_suffix = "targetgroup/predictor-production/0123456789abcdef"
    }
  }
  mock_resource "aws_lb_listener" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/predictor-production/0123456789abcdef/0123456789abcdef"
    }
  }
  mock_resource "aws_wafv2_web_acl" {
    defaults = {
      arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/predictor-production/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:aws-waf-logs-predictor-production"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
      domain_validation_options = [{
        domain_name           = "predictor.example.com"
        resource_record_name  = "_abc.predictor.example.com."
        resource_record_type  = "CNAME"
        resource_record_value = "_def.acm-validations.aws."
      }]
    }
  }
  mock_resource "aws_acm_certificate_validation" {
    defaults = {
      certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    }
  }
}

# The canary's group gets an ARN of its own (the mock's default would give both groups the same).
override_resource {
  target = aws_lb_target_group.track["canary"]
  values = {
    arn        = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/predictor-production-canary/fedcba9876543210"
    arn_suffix = "targetgroup/predictor-production-canary/fedcba9876543210"
  }
}

variables {
  name                   = "predictor-production"
  vpc_id                 = "vpc-0123456789abcdef0"
  public_subnet_ids      = ["subnet-a", "subnet-b", "subnet-c"]
  node_security_group_id = "sg-0123456789abcdef0"
  domain_name            = "predictor.example.com"
  idle_timeout_seconds   = 60
  ssl_policy             = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"

  backend_keep_alive_timeout_seconds = 75
  internal_paths                     = ["/metrics"]
  target = {
    name                          = "predictor-production"
    port                          = 8000
    health_check_path             = "/ready"
    health_check_interval_seconds = 5
    health_check_timeout_seconds  = 2
    healthy_threshold             = 2
    unhealthy_threshold           = 2
    deregistration_delay_seconds  = 15
  }
}

run "https_listener_forwards_with_a_tls13_policy" {
  command = apply

  assert {
    condition     = aws_lb_listener.https.protocol == "HTTPS" && aws_lb_listener.https.port == 443
    error_message = "The forwarding listener must be HTTPS on 443."
  }
  assert {
    condition     = aws_lb_listener.https.ssl_policy == var.ssl_policy && startswith(aws_lb_listener.https.ssl_policy, "ELBSecurityPolicy-TLS13-")
    error_message = "The HTTPS listener must use the given TLS 1.3 security policy."
  }
  assert {
    condition     = aws_lb_listener.https.certificate_arn == aws_acm_certificate_validation.this.certificate_arn
    error_message = "The HTTPS listener must serve the validated certificate."
  }
  assert {
    condition     = aws_lb_listener.https.default_action[0].type == "forward"
    error_message = "The HTTPS listener must forward to the service's target groups."
  }
}

run "the_https_listener_weighs_stable_100_and_canary_0" {
  command = apply

  assert {
    condition = (
      { for g in aws_lb_listener.https.default_action[0].forward[0].target_group : g.arn => g.weight } ==
      { (aws_lb_target_group.track["stable"].arn) = 100, (aws_lb_target_group.track["canary"].arn) = 0 }
    )
    error_message = "At rest the stable group takes every request and the canary none."
  }
  assert {
    condition     = output.canary_target_group_arn == aws_lb_target_group.track["canary"].arn && output.canary_target_group_arn_suffix == "targetgroup/predictor-production-canary/fedcba9876543210"
    error_message = "The canary's group and its CloudWatch dimension are outputs for the release."
  }
  assert {
    condition     = output.canary_target_group_arn != output.target_group_arn && output.https_listener_arn == aws_lb_listener.https.arn
    error_message = "The release needs the listener and a canary group apart from the stable one."
  }
}

run "the_canary_group_is_named_after_the_stable_one" {
  command = plan

  assert {
    condition     = aws_lb_target_group.track["canary"].name == "predictor-production-canary" && aws_lb_target_group.track["stable"].name == "predictor-production"
    error_message = "The canary's group is named after the stable one."
  }
}

run "a_target_name_leaving_no_room_for_the_canary_suffix_is_rejected" {
  command = plan

  variables {
    target = {
      name                          = "predictor-production-eu-wst"
      port                          = 8000
      health_check_path             = "/ready"
      health_check_interval_seconds = 5
      health_check_timeout_seconds  = 2
      healthy_threshold             = 2
      unhealthy_threshold           = 2
      deregistration_delay_seconds  = 15
    }
  }

  expect_failures = [var.target]
}

run "internal_paths_get_a_json_404_before_the_forward" {
  command = apply

  assert {
    condition     = aws_lb_listener_rule.internal_paths[0].listener_arn == aws_lb_listener.https.arn && aws_lb_listener_rule.internal_paths[0].priority == 1
    error_message = "The internal-path rule must sit on the HTTPS listener, ahead of its default forward."
  }
  assert {
    condition     = [for c in aws_lb_listener_rule.internal_paths[0].condition : toset(flatten([for p in c.path_pattern : p.values]))] == [toset(["/metrics", "/metrics/*"])]
    error_message = "The rule must match the internal path and everything under it."
  }
  assert {
    condition = (
      aws_lb_listener_rule.internal_paths[0].action[0].type == "fixed-response" &&
      aws_lb_listener_rule.internal_paths[0].action[0].fixed_response[0].status_code == "404" &&
      aws_lb_listener_rule.internal_paths[0].action[0].fixed_response[0].content_type == "application/json" &&
      jsondecode(aws_lb_listener_rule.internal_paths[0].action[0].fixed_response[0].message_body) == { status = 404, error = "not_found", detail = "Not Found" }
    )
    error_message = "The answer must be a 404 in the API's JSON error shape."
  }
}

run "no_internal_paths_no_rule" {
  command = plan

  variables {
    internal_paths = []
  }

  assert {
    condition     = length(aws_lb_listener_rule.internal_paths) == 0
    error_message = "Without internal paths every request is forwarded."
  }
}

run "the_root_path_cannot_be_made_internal" {
  command = plan

  variables {
    internal_paths = ["/"]
  }

  expect_failures = [var.internal_paths]
}

run "http_listener_only_redirects_to_https" {
  command = apply

  assert {
    condition     = aws_lb_listener.http.protocol == "HTTP" && aws_lb_listener.http.port == 80
    error_message = "The redirecting listener is plain HTTP on 80."
  }
  assert {
    condition     = length(aws_lb_listener.http.default_action) == 1 && aws_lb_listener.http.default_action[0].type == "redirect"
    error_message = "The HTTP listener's only action must be a redirect."
  }
  assert {
    condition = (
      aws_lb_listener.http.default_action[0].redirect[0].protocol == "HTTPS" &&
      aws_lb_listener.http.default_action[0].redirect[0].port == "443" &&
      aws_lb_listener.http.default_action[0].redirect[0].status_code == "HTTP_301"
    )
    error_message = "The HTTP listener must redirect permanently to HTTPS on 443."
  }
}

run "load_balancer_is_hardened" {
  command = apply

  assert {
    condition     = !aws_lb.this.internal && aws_lb.this.load_balancer_type == "application"
    error_message = "The ALB is internet-facing."
  }
  assert {
    condition     = aws_lb.this.drop_invalid_header_fields
    error_message = "Invalid header fields must be dropped."
  }
  assert {
    condition     = aws_lb.this.enable_deletion_protection
    error_message = "Deletion protection must be on by default."
  }
  assert {
    condition     = aws_lb.this.access_logs[0].enabled && aws_lb.this.access_logs[0].bucket == aws_s3_bucket.access_logs.id
    error_message = "Access logs must go to the module's bucket."
  }
  assert {
    condition     = aws_lb.this.idle_timeout == 60
    error_message = "The idle timeout comes from the input."
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.access_logs.block_public_acls && aws_s3_bucket_public_access_block.access_logs.restrict_public_buckets
    error_message = "The access log bucket must block public access."
  }
  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.access_logs.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256"
    error_message = "The access log bucket must be encrypted (SSE-S3, the only kind ALB log delivery supports)."
  }
  assert {
    condition     = aws_wafv2_web_acl_association.this.resource_arn == aws_lb.this.arn
    error_message = "The web ACL must protect the ALB."
  }
}

run "target_group_registers_pods_and_checks_readiness" {
  command = apply

  assert {
    condition     = aws_lb_target_group.track["stable"].target_type == "ip" && aws_lb_target_group.track["stable"].port == 8000
    error_message = "Pods are registered by IP on the service port."
  }
  assert {
    condition = (
      aws_lb_target_group.track["stable"].health_check[0].path == "/ready" &&
      aws_lb_target_group.track["stable"].health_check[0].matcher == "200" &&
      aws_lb_target_group.track["stable"].health_check[0].interval == 5 &&
      aws_lb_target_group.track["stable"].health_check[0].timeout == 2
    )
    error_message = "The health check must probe the readiness path with the given timings."
  }
  assert {
    condition     = aws_lb_target_group.track["stable"].deregistration_delay == "15"
    error_message = "The deregistration delay comes from the input."
  }
  assert {
    condition = (
      aws_vpc_security_group_ingress_rule.pods_from_alb.security_group_id == var.node_security_group_id &&
      aws_vpc_security_group_ingress_rule.pods_from_alb.referenced_security_group_id == aws_security_group.alb.id &&
      aws_vpc_security_group_ingress_rule.pods_from_alb.from_port == 8000 &&
      aws_vpc_security_group_ingress_rule.pods_from_alb.to_port == 8000
    )
    error_message = "Nodes must accept the ALB on the service port only."
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.to_pods.from_port == 8000 && aws_vpc_security_group_egress_rule.to_pods.referenced_security_group_id == var.node_security_group_id
    error_message = "The ALB may only egress to the nodes on the service port."
  }
}

run "route53_zone_gets_validation_and_alias_records" {
  command = apply

  variables {
    route53_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  assert {
    condition     = length(aws_route53_record.validation) == 1 && aws_route53_record.validation["predictor.example.com"].records == toset(["_def.acm-validations.aws."])
    error_message = "The certificate's validation record must be published in the zone."
  }
  assert {
    condition     = length(aws_route53_record.alias) == 1 && aws_route53_record.alias[0].type == "A"
    error_message = "An A alias record must point the domain at the ALB."
  }
}

run "without_a_zone_no_records_are_managed" {
  command = plan

  assert {
    condition     = length(aws_route53_record.validation) == 0 && length(aws_route53_record.alias) == 0
    error_message = "Without a zone, records are published by the operator."
  }
}

run "non_tls13_policies_are_rejected" {
  command = plan

  variables {
    ssl_policy = "ELBSecurityPolicy-2016-08"
  }

  expect_failures = [var.ssl_policy]
}

run "a_server_keep_alive_shorter_than_the_idle_timeout_is_rejected" {
  command = plan

  variables {
    backend_keep_alive_timeout_seconds = 60
  }

  expect_failures = [var.backend_keep_alive_timeout_seconds]
}
