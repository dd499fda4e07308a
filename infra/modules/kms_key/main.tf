# A customer managed key with rotation on and a key policy written out in full. The account statement
# lists every action instead of kms:* (or prefixes like kms:Describe*), so no policy in the plan holds a
# wildcard action. In a key policy, Resource "*" means "this key".
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_statement = {
    Sid       = "AccountAdministersAndDelegatesThroughIAM"
    Effect    = "Allow"
    Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
    Action = [
      "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
      "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
      "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies",
      "kms:ListKeyRotations", "kms:ListResourceTags", "kms:ListRetirableGrants", "kms:PutKeyPolicy",
      "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    Resource = "*"
  }
  service_statements = [for s in var.service_statements : merge(
    {
      Sid       = s.sid
      Effect    = "Allow"
      Principal = s.principal
      Action    = s.actions
      Resource  = "*"
    },
    length(s.conditions) > 0 ? { Condition = s.conditions } : {},
  )]
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat([local.account_statement], local.service_statements)
  })
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = local.policy
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}
