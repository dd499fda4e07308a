# The deploy pushes an image tagged with the commit SHA, scans it, then deploys its digest: a tag must
# always name the same bytes, every push must be scanned, and the images are encrypted with a KMS key.
Feature: ECR repositories

  @noskip
  Scenario: ECR image tags are immutable
    Given I have aws_ecr_repository defined
    Then it must contain image_tag_mutability
    And its value must be IMMUTABLE

  @noskip
  Scenario: ECR scans every pushed image
    Given I have aws_ecr_repository defined
    Then it must contain image_scanning_configuration
    And it must contain scan_on_push
    And its value must be true

  # Without an encryption_configuration the repository is AES256 (S3-managed keys).
  @noskip
  Scenario: ECR encrypts images with KMS
    Given I have aws_ecr_repository defined
    Then it must contain encryption_configuration
    And it must contain encryption_type
    And its value must be KMS
