output "state_bucket" {
  description = "Name of the state bucket (backend.hcl bucket)."
  value       = aws_s3_bucket.state.bucket
}

output "state_bucket_arn" {
  description = "ARN of the state bucket."
  value       = aws_s3_bucket.state.arn
}

output "state_kms_key_arn" {
  description = "KMS key of the state (backend.hcl kms_key_id and the root's state_kms_key_arn)."
  value       = module.key.arn
}

output "state_key" {
  description = "Object key of the root configuration's state (backend.hcl key)."
  value       = local.state_key
}

output "backend_config" {
  description = "Content for the root configuration's backend.hcl."
  value       = <<-EOT
    bucket     = "${aws_s3_bucket.state.bucket}"
    key        = "${local.state_key}"
    region     = "${var.region}"
    kms_key_id = "${module.key.arn}"
  EOT
}
