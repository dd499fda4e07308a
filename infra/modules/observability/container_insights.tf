# The log groups the CloudWatch agent (amazon-cloudwatch-observability add-on) writes to. Created here,
# before the add-on, because the agent otherwise creates them itself: unencrypted and kept forever.
locals {
  container_insights_prefix = "/aws/containerinsights/${var.cluster_name}"
  container_insights_logs   = toset(["application", "dataplane", "host", "performance"])
  logs_arn_prefix           = "arn:${data.aws_partition.current.partition}:logs:${local.region}:${local.account_id}:log-group"
}

module "logs_key" {
  source = "../kms_key"

  alias       = "${var.name}/container-insights"
  description = "Encrypts the Container Insights log groups of ${var.cluster_name}"
  service_statements = [{
    sid       = "CloudWatchLogsUsesForTheContainerInsightsLogGroups"
    principal = { Service = "logs.${local.region}.amazonaws.com" }
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
    # CloudWatch Logs names the log group in the encryption context of every call it makes with the key:
    # its documented guard against another account's or another group's use of the key.
    conditions = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "${local.logs_arn_prefix}:${local.container_insights_prefix}/*" } }
  }]
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "container_insights" {
  for_each = local.container_insights_logs

  name              = "${local.container_insights_prefix}/${each.key}"
  retention_in_days = var.container_insights_log_retention_days
  kms_key_id        = module.logs_key.arn
  tags              = var.tags
}
