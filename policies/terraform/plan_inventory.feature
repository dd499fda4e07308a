# The resources the other features judge must be in the plan: a scenario that finds nothing to judge is
# skipped, and a skip is not a pass. @noskip turns "not found" into a failure, so a plan that is empty,
# truncated or of the wrong configuration fails here by name.
Feature: The plan holds what the policies judge

  @noskip
  Scenario: The plan has IAM roles
    Given I have aws_iam_role defined

  @noskip
  Scenario: The plan has IAM role policies
    Given I have aws_iam_role_policy defined

  @noskip
  Scenario: The plan has KMS keys
    Given I have aws_kms_key defined

  @noskip
  Scenario: The plan has an ECR repository
    Given I have aws_ecr_repository defined

  @noskip
  Scenario: The plan has an EKS cluster
    Given I have aws_eks_cluster defined

  @noskip
  Scenario: The plan has load balancer listeners
    Given I have aws_lb_listener defined

  @noskip
  Scenario: The plan has target groups
    Given I have aws_lb_target_group defined

  @noskip
  Scenario: The plan has SNS topics
    Given I have aws_sns_topic defined

  @noskip
  Scenario: The plan has CloudWatch log groups
    Given I have aws_cloudwatch_log_group defined

  @noskip
  Scenario: The plan has SQS queues
    Given I have aws_sqs_queue defined
