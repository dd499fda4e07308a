# Interruption handling: EventBridge puts the events that announce a node's end on a queue the
# controller reads, so it cordons, drains and replaces the node before EC2 takes it away.
locals {
  # Karpenter's parser ignores every AWS Health event but EC2's scheduled changes, so the rule only
  # forwards those.
  interruption_events = {
    "spot-interruption" = { source = ["aws.ec2"], detail-type = ["EC2 Spot Instance Interruption Warning"] }
    "rebalance"         = { source = ["aws.ec2"], detail-type = ["EC2 Instance Rebalance Recommendation"] }
    "state-change"      = { source = ["aws.ec2"], detail-type = ["EC2 Instance State-change Notification"] }
    "scheduled-change" = {
      source      = ["aws.health"]
      detail-type = ["AWS Health Event"]
      detail      = { service = ["EC2"], eventTypeCategory = ["scheduledChange"] }
    }
  }
  rule_names = { for event in keys(local.interruption_events) : event => "${var.cluster_name}-karpenter-${event}" }
  rule_arns  = [for name in values(local.rule_names) : "arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${name}"]
}

# A customer managed key rather than SQS-managed SSE: its key policy names who may encrypt (EventBridge,
# for this queue only) and decrypt (the controller role, through SQS, for this queue only), and every
# use of it is logged in CloudTrail. With SSE-SQS anyone with sqs:ReceiveMessage on the queue reads it.
module "queue_key" {
  source = "../kms_key"

  alias       = "${var.cluster_name}/karpenter-interruption"
  description = "Encrypts the Karpenter interruption queue of ${var.cluster_name}"
  service_statements = [
    {
      sid        = "EventBridgeSendsToTheInterruptionQueue"
      principal  = { Service = "events.amazonaws.com" }
      actions    = ["kms:GenerateDataKey", "kms:Decrypt"]
      conditions = { StringEquals = { "kms:EncryptionContext:aws:sqs:arn" = local.queue_arn } }
    },
    {
      sid = "ControllerReadsTheInterruptionQueue"
      # Composed from the role's name: known at plan time, and the role exists before the key policy
      # that names it (KMS refuses a policy naming a principal that does not exist).
      principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:role/${module.controller_role.name}" }
      actions   = ["kms:Decrypt"]
      conditions = { StringEquals = {
        "kms:EncryptionContext:aws:sqs:arn" = local.queue_arn
        "kms:ViaService"                    = "sqs.${local.region}.amazonaws.com"
      } }
    },
  ]
  tags = var.tags
}

resource "aws_sqs_queue" "interruption" {
  name                              = local.queue_name
  message_retention_seconds         = var.message_retention_seconds
  kms_master_key_id                 = module.queue_key.arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

resource "aws_sqs_queue_policy" "interruption" {
  queue_url = aws_sqs_queue.interruption.id
  policy = jsonencode({
    Version = "2012-10-17"
    Id      = "KarpenterInterruptionQueue"
    Statement = [
      {
        Sid       = "EventBridgeRulesOfThisModuleSend"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = local.queue_arn
        Condition = { ArnEquals = { "aws:SourceArn" = local.rule_arns } }
      },
      {
        # Karpenter's template grants SQS itself too; held to this account.
        Sid       = "SqsOfThisAccountSends"
        Effect    = "Allow"
        Principal = { Service = "sqs.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = local.queue_arn
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
      {
        Sid       = "DenyPlainHttp"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = local.queue_arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_cloudwatch_event_rule" "interruption" {
  for_each = local.interruption_events

  name          = local.rule_names[each.key]
  description   = "Karpenter interruption handling of ${var.cluster_name}: ${join(", ", each.value.detail-type)}"
  event_pattern = jsonencode(each.value)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "interruption" {
  for_each = local.interruption_events

  rule      = aws_cloudwatch_event_rule.interruption[each.key].name
  target_id = "KarpenterInterruptionQueue"
  arn       = aws_sqs_queue.interruption.arn
}
