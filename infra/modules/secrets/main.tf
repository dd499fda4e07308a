# The client API keys of POST /predict, one per line (api/api_keys.py). The value is never in Terraform
# (it would land in the state): operators put it with `aws secretsmanager put-secret-value`. Terraform
# owns the container, its key and who may read it: the service's pods, through the Secrets Store CSI
# driver, which fetches it with the pod's Pod Identity role and mounts it as a file.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Secrets Manager appends "-" and six random characters to the ARN; "??????" matches exactly those,
  # so the policy is known at plan time and matches no other secret.
  secret_arn_pattern = "arn:${local.partition}:secretsmanager:${data.aws_region.current.name}:${local.account_id}:secret:${var.secret_name}-??????"

  read_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadTheClientApiKeys"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource = local.secret_arn_pattern
    }]
  })
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:Client API keys have no rotation Lambda; rotate by putting a version with the new key added.
  name                    = var.secret_name
  description             = "Client API keys of POST /predict, one per line; mounted into the pods by the Secrets Store CSI driver"
  kms_key_id              = module.key.arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

module "reader_role" {
  source = "../pod_identity_role"

  name            = var.role_name
  cluster_name    = var.cluster_name
  namespace       = var.namespace
  service_account = var.service_account
  inline_policies = { "read-api-keys-secret" = local.read_policy }
  tags            = var.tags
}

# The key lets the reader decrypt only through Secrets Manager, so the role's own policy names the
# secret and nothing else.
module "key" {
  source = "../kms_key"

  alias       = "secrets/${var.secret_name}"
  description = "Encrypts the ${var.secret_name} secret"
  service_statements = [{
    sid        = "ReaderDecryptsThroughSecretsManager"
    principal  = { AWS = "arn:${local.partition}:iam::${local.account_id}:role/${module.reader_role.name}" }
    actions    = ["kms:Decrypt"]
    conditions = { StringEquals = { "kms:ViaService" = "secretsmanager.${data.aws_region.current.name}.amazonaws.com" } }
  }]
  tags = var.tags
}
