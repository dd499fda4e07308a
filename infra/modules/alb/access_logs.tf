data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}
# The regional Elastic Load Balancing account that writes access logs in regions older than
# August 2022; newer regions use the log delivery service principal (both are granted).
data "aws_elb_service_account" "this" {}

locals {
  account_id        = data.aws_caller_identity.current.account_id
  partition         = data.aws_partition.current.partition
  region            = data.aws_region.current.name
  access_log_prefix = "alb"
  access_log_bucket = "${var.name}-alb-access-logs-${local.account_id}"
  access_log_arn    = "arn:${local.partition}:s3:::${local.access_log_bucket}"
}

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This is the log bucket; logging its access into another bucket would only move the question.
  #checkov:skip=CKV_AWS_144:Access logs are diagnostic data; cross-region replication doubles cost for no recovery need.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of new log objects.
  #checkov:skip=CKV_AWS_145:ALB access log delivery supports only SSE-S3 (AES256) buckets, not SSE-KMS.
  bucket        = local.access_log_bucket
  force_destroy = false
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_log_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

locals {
  access_log_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LoadBalancingWritesAccessLogs"
        Effect    = "Allow"
        Principal = { AWS = data.aws_elb_service_account.this.arn }
        Action    = "s3:PutObject"
        Resource  = "${local.access_log_arn}/${local.access_log_prefix}/AWSLogs/${local.account_id}/*"
      },
      {
        Sid       = "LogDeliveryWritesAccessLogs"
        Effect    = "Allow"
        Principal = { Service = "logdelivery.elasticloadbalancing.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${local.access_log_arn}/${local.access_log_prefix}/AWSLogs/${local.account_id}/*"
        # Only for load balancers of this account (confused deputy).
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        Sid       = "DenyPlainHttp"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.access_log_arn, "${local.access_log_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = local.access_log_policy

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
