output "target_group_arn" {
  description = "ARN of the target group the TargetGroupBinding registers the pods into."
  value       = aws_lb_target_group.track["stable"].arn
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group (the TargetGroup dimension of CloudWatch metrics)."
  value       = aws_lb_target_group.track["stable"].arn_suffix
}

output "canary_target_group_arn" {
  description = "ARN of the target group the canary's TargetGroupBinding registers its pods into; the HTTPS listener weighs it against target_group_arn."
  value       = aws_lb_target_group.track["canary"].arn
}

output "canary_target_group_arn_suffix" {
  description = "ARN suffix of the canary's target group (the TargetGroup dimension of its CloudWatch metrics, which a release's analysis reads)."
  value       = aws_lb_target_group.track["canary"].arn_suffix
}

output "alb_arn" {
  description = "ARN of the load balancer."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (the LoadBalancer dimension of CloudWatch metrics)."
  value       = aws_lb.this.arn_suffix
}

output "alb_dns_name" {
  description = "DNS name of the load balancer (point the domain at it when no Route 53 zone is managed here)."
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Route 53 zone ID of the load balancer, for alias records."
  value       = aws_lb.this.zone_id
}

output "security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.alb.id
}

output "certificate_arn" {
  description = "ARN of the ACM certificate served by the HTTPS listener."
  value       = aws_acm_certificate.this.arn
}

output "certificate_validation_records" {
  description = "DNS records that validate the certificate (publish them when no Route 53 zone is managed here)."
  value       = local.validation_records
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener, whose default action weighs the stable and canary target groups (a release modifies it)."
  value       = aws_lb_listener.https.arn
}

output "weighted_listener_tag" {
  description = "The tag only the HTTPS listener carries: a deploy role may modify the listener that has it (its ARN is unknown until apply, so IAM policies known at plan time select it by this tag)."
  value       = local.weighted_listener_tag
}

output "http_listener_arn" {
  description = "ARN of the HTTP listener (redirects to HTTPS)."
  value       = aws_lb_listener.http.arn
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL in front of the load balancer."
  value       = aws_wafv2_web_acl.this.arn
}

output "access_log_bucket" {
  description = "Bucket receiving the access logs (composed, so it is known at plan time)."
  value       = local.access_log_bucket
}
