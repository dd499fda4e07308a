resource "aws_acm_certificate" "this" {
  domain_name       = var.domain_name
  validation_method = "DNS"
  key_algorithm     = "RSA_2048"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  validation_records = {
    for o in aws_acm_certificate.this.domain_validation_options : o.domain_name => {
      name  = o.resource_record_name
      type  = o.resource_record_type
      value = o.resource_record_value
    }
  }
  manage_dns = var.route53_zone_id != null
}

resource "aws_route53_record" "validation" {
  for_each = local.manage_dns ? toset([var.domain_name]) : toset([])

  zone_id         = var.route53_zone_id
  name            = local.validation_records[each.key].name
  type            = local.validation_records[each.key].type
  records         = [local.validation_records[each.key].value]
  ttl             = 300
  allow_overwrite = true
}

# Without a zone, apply waits here until someone publishes the records from the
# certificate_validation_records output: the HTTPS listener never gets an unissued certificate.
resource "aws_acm_certificate_validation" "this" {
  certificate_arn         = aws_acm_certificate.this.arn
  validation_record_fqdns = local.manage_dns ? [for r in aws_route53_record.validation : r.fqdn] : null
}

resource "aws_route53_record" "alias" {
  count = local.manage_dns ? 1 : 0

  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.this.dns_name
    zone_id                = aws_lb.this.zone_id
    evaluate_target_health = true
  }
}
