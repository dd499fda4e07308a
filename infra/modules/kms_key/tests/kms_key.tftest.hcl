mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  alias       = "example/logs"
  description = "test key"
  service_statements = [{
    sid        = "LogsUse"
    principal  = { Service = "logs.eu-west-1.amazonaws.com" }
    actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
    conditions = { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:eu-west-1:123456789012:log-group:x" } }
  }]
}

run "key_rotates_and_policy_grants_no_whole_service" {
  command = plan

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "Key rotation must be on."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.this.policy).Statement :
      alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")])
    ])
    error_message = "No key policy statement may use a wildcard action."
  }
  assert {
    condition     = jsondecode(aws_kms_key.this.policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root"
    error_message = "The account must administer the key (otherwise it becomes unmanageable)."
  }
  assert {
    condition     = jsondecode(aws_kms_key.this.policy).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:x"
    error_message = "Service statements must keep their conditions."
  }
  assert {
    condition     = aws_kms_alias.this.name == "alias/example/logs"
    error_message = "The alias must be alias/<alias>."
  }
}

run "unconditioned_statements_carry_no_condition_block" {
  command = plan

  variables {
    service_statements = [{
      sid       = "RoleUses"
      principal = { AWS = "arn:aws:iam::123456789012:role/x" }
      actions   = ["kms:Decrypt"]
    }]
  }

  assert {
    condition     = !contains(keys(jsondecode(aws_kms_key.this.policy).Statement[1]), "Condition")
    error_message = "An empty condition must not be rendered."
  }
}
