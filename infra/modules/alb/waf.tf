# AWS managed rule groups in front of the ALB: common exploits, known bad inputs (Log4Shell and
# friends), IP reputation, plus a per-client rate limit.
locals {
  managed_rule_groups = [
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
  ]
  waf_log_group = "aws-waf-logs-${var.name}"
}

resource "aws_wafv2_web_acl" "this" {
  name        = var.name
  description = "Protects the ${var.name} ALB"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  dynamic "rule" {
    for_each = local.managed_rule_groups
    content {
      name     = rule.value
      priority = rule.key + 1

      override_action {
        none {}
      }

      statement {
        managed_rule_group_statement {
          vendor_name = "AWS"
          name        = rule.value
        }
      }

      visibility_config {
        cloudwatch_metrics_enabled = true
        metric_name                = rule.value
        sampled_requests_enabled   = true
      }
    }
  }

  rule {
    name     = "RateLimitPerClientIp"
    priority = length(local.managed_rule_groups) + 1

    action {
      block {}
    }

    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit
        aggregate_key_type = "IP"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "RateLimitPerClientIp"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = var.name
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  resource_arn = aws_lb.this.arn
  web_acl_arn  = aws_wafv2_web_acl.this.arn
}

module "waf_logs_key" {
  source = "../kms_key"

  alias       = "${var.name}/waf-logs"
  description = "Encrypts the WAF logs of ${var.name}"
  service_statements = [{
    sid        = "CloudWatchLogsUsesForTheWafLogGroup"
    principal  = { Service = "logs.${local.region}.amazonaws.com" }
    actions    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    conditions = { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.waf_log_group}" } }
  }]
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "waf" {
  name              = local.waf_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = module.waf_logs_key.arn
  tags              = var.tags
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]

  # Never log credentials that clients send.
  redacted_fields {
    single_header {
      name = "authorization"
    }
  }

  redacted_fields {
    single_header {
      name = "cookie"
    }
  }
}
