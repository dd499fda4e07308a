mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name = "predictor"
}

run "repository_is_immutable_scanned_and_kms_encrypted" {
  command = apply

  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
    error_message = "Tags must be immutable."
  }
  assert {
    condition     = aws_ecr_repository.this.image_scanning_configuration[0].scan_on_push
    error_message = "Images must be scanned on push."
  }
  assert {
    condition     = aws_ecr_repository.this.encryption_configuration[0].encryption_type == "KMS" && aws_ecr_repository.this.encryption_configuration[0].kms_key == module.key.arn
    error_message = "Images must be encrypted with the module's own KMS key."
  }
  assert {
    condition     = !aws_ecr_repository.this.force_delete
    error_message = "A repository holding images must not be force-deleted."
  }
}

run "lifecycle_expires_untagged_images_and_keeps_enough_to_roll_back" {
  command = plan

  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection == { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7 }
    error_message = "Untagged images must expire after 7 days."
  }
  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection == { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 200 }
    error_message = "The 200 most recent images must be kept."
  }
  assert {
    condition     = alltrue([for r in jsondecode(aws_ecr_lifecycle_policy.this.policy).rules : r.action.type == "expire"])
    error_message = "Lifecycle rules only expire."
  }
}

run "too_few_kept_images_are_rejected" {
  command = plan

  variables {
    max_image_count = 3
  }

  expect_failures = [var.max_image_count]
}

run "invalid_names_are_rejected" {
  command = plan

  variables {
    name = "Predictor Service"
  }

  expect_failures = [var.name]
}
