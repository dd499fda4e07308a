# Encryption with a KMS key, for every resource type whose key attribute the plan knows. A key created in
# the same plan is unknown until apply: the plan gate accepts such a value only when the configuration
# sets it from an aws_kms_key (policies/README.md, "Unknown at plan time"). A known null is no key at all.
Feature: Encryption at rest with KMS

  Scenario: SNS topics are encrypted with a KMS key
    Given I have aws_sns_topic defined
    When it has kms_master_key_id
    Then it must contain kms_master_key_id
    And its value must not be null

  Scenario: SQS queues are encrypted with a KMS key
    Given I have aws_sqs_queue defined
    When it has kms_master_key_id
    Then it must contain kms_master_key_id
    And its value must not be null

  Scenario: CloudWatch log groups are encrypted with a KMS key
    Given I have aws_cloudwatch_log_group defined
    When it has kms_key_id
    Then it must contain kms_key_id
    And its value must not be null
