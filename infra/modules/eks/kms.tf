module "secrets_key" {
  source = "../kms_key"

  alias       = "eks/${var.name}/secrets"
  description = "Envelope-encrypts the Kubernetes secrets of ${var.name}"
  service_statements = [{
    sid = "ClusterRoleEncryptsSecrets"
    # Composed from the role's name so the policy is known at plan time and the role exists first.
    principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:role/${aws_iam_role.cluster.name}" }
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
  }]
  tags = var.tags
}

module "logs_key" {
  source = "../kms_key"

  alias       = "eks/${var.name}/logs"
  description = "Encrypts the control-plane logs of ${var.name}"
  service_statements = [{
    sid        = "CloudWatchLogsUsesForTheClusterLogGroup"
    principal  = { Service = "logs.${local.region}.amazonaws.com" }
    actions    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
    conditions = { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.log_group}" } }
  }]
  tags = var.tags
}
