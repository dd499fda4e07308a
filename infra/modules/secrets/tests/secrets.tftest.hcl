mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
}

variables {
  secret_name     = "predictor/production/api-keys"
  role_name       = "predictor-production-app"
  cluster_name    = "predictor-production"
  namespace       = "predictor"
  service_account = "predictor"
}

run "the_app_role_reads_only_its_secret" {
  command = plan

  assert {
    condition = jsondecode(local.read_policy).Statement == [{
      Sid      = "ReadTheClientApiKeys"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:predictor/production/api-keys-??????"
    }]
    error_message = "The role may only read the one secret (its ARN with the six-character suffix)."
  }
  assert {
    condition     = jsondecode(module.reader_role.trust_policy).Statement[0].Condition.StringEquals["aws:RequestTag/kubernetes-service-account"] == "predictor" && module.reader_role.service_account == { namespace = "predictor", name = "predictor" }
    error_message = "Only the service's service account may assume the role."
  }
}

run "the_secret_is_encrypted_with_a_key_only_the_reader_uses_through_secrets_manager" {
  command = plan

  assert {
    condition     = aws_secretsmanager_secret.this.recovery_window_in_days == 30
    error_message = "Deleted secrets stay recoverable for 30 days."
  }
  assert {
    condition = one([for s in jsondecode(module.key.policy).Statement : s if s.Sid == "ReaderDecryptsThroughSecretsManager"]) == {
      Sid       = "ReaderDecryptsThroughSecretsManager"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:role/predictor-production-app" }
      Action    = ["kms:Decrypt"]
      Resource  = "*"
      Condition = { StringEquals = { "kms:ViaService" = "secretsmanager.eu-west-1.amazonaws.com" } }
    }
    error_message = "Only the reader role may decrypt, and only through Secrets Manager."
  }
}

run "names_that_cannot_be_a_key_alias_are_rejected" {
  command = plan

  variables {
    secret_name = "predictor config!"
  }

  expect_failures = [var.secret_name]
}
