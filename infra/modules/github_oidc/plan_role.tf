# Pull requests run `terraform plan -lock=false` with this role: it reads, it never writes (not even
# the state lock). AWS's ReadOnlyAccess covers the refresh; it excludes secret values.
resource "aws_iam_role" "plan" {
  name                 = var.plan_role_name
  description          = "Read-only terraform plan for pull requests of ${var.repository}"
  assume_role_policy   = local.trust_policies["plan"]
  max_session_duration = 3600
  tags                 = var.tags

  depends_on = [aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "plan_state" {
  count = var.state_kms_key_arn == null ? 0 : 1

  name = "decrypt-terraform-state"
  role = aws_iam_role.plan.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DecryptStateThroughS3"
      Effect    = "Allow"
      Action    = "kms:Decrypt"
      Resource  = var.state_kms_key_arn
      Condition = { StringLike = { "kms:ViaService" = "s3.*.amazonaws.com" } }
    }]
  })
}
