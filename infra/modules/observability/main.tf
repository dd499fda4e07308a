data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  topic_name = "${var.name}-alarms"
  topic_arn  = "arn:${data.aws_partition.current.partition}:sns:${local.region}:${local.account_id}:${local.topic_name}"
  # Every alarm of this module is named "<name>-…": CloudWatch acts for them only (confused deputy).
  alarms_of_this_module = {
    StringEquals = { "aws:SourceAccount" = local.account_id }
    ArnLike      = { "aws:SourceArn" = "arn:${data.aws_partition.current.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name}-*" }
  }
}

module "key" {
  source = "../kms_key"

  alias       = "${var.name}/alarms"
  description = "Encrypts the ${local.topic_name} SNS topic"
  service_statements = [{
    sid        = "CloudWatchPublishesToTheEncryptedTopic"
    principal  = { Service = "cloudwatch.amazonaws.com" }
    actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
    conditions = local.alarms_of_this_module
  }]
  tags = var.tags
}

resource "aws_sns_topic" "alarms" {
  name              = local.topic_name
  kms_master_key_id = module.key.arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "alarms" {
  arn = aws_sns_topic.alarms.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountManagesTheTopic"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root" }
        Action = [
          "sns:AddPermission", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
          "sns:Publish", "sns:RemovePermission", "sns:SetTopicAttributes", "sns:Subscribe",
        ]
        Resource = local.topic_arn
      },
      {
        Sid       = "CloudWatchAlarmsOfThisAccountPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = local.topic_arn
        Condition = local.alarms_of_this_module
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}
