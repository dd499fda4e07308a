# A service principal granted in a key, bucket, topic, queue, repository or secret policy acts for whoever configures that
# service: without a condition naming the account (aws:SourceAccount) or its resource (aws:SourceArn),
# another account's alarm, load balancer or rule can make the service use this key, write this bucket or
# publish to this topic (the confused deputy). Key policies may name the resource through the encryption
# context instead (kms:EncryptionContext:aws:logs:arn, :aws:sqs:arn): CloudWatch Logs documents that guard,
# and EventBridge sends no aws:Source* keys to KMS.
#
# "its value must match" reads every value under Condition: each must be an account ID or an ARN in one
# named account, so a condition that does not pin an account (kms:ViaService alone, an ARN with `*` as its
# account) fails too. Trust policies are not listed: web_identity_trust.feature and the IAM rules judge them.
Feature: Service principals in resource policies

  Scenario Outline: Service principals in resource policies carry aws:SourceAccount, aws:SourceArn or the encryption context of one account
    Given I have <type> defined
    When it has policy
    Then it must contain policy
    And it must contain Statement
    When its Effect is Allow
    When its Principal is Service
    Then it must contain Condition
    And its value must match the "^([0-9]{12}|arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+)$" regex

    Examples:
      | type                 |
      | aws_kms_key                      |
      | aws_s3_bucket_policy             |
      | aws_sns_topic_policy             |
      | aws_sqs_queue_policy             |
      | aws_ecr_repository_policy        |
      | aws_secretsmanager_secret_policy |
