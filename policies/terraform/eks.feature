Feature: EKS control plane

  # A private endpoint has no public CIDRs to judge; a public one must name, in the plan, the networks it
  # admits, and none of them may be the whole internet.
  Scenario: A public EKS endpoint admits only named networks
    Given I have aws_eks_cluster defined
    Then it must contain vpc_config
    When its endpoint_public_access is true
    Then it must contain public_access_cidrs
    And its value must not match the "^(0\.0\.0\.0/0|::/0)$" regex

  @noskip
  Scenario: EKS encrypts Kubernetes secrets with a KMS key
    Given I have aws_eks_cluster defined
    Then it must contain encryption_config
    And it must contain resources
    And its value must contain secrets

  @noskip
  Scenario: EKS sends API server, audit and authenticator logs to CloudWatch
    Given I have aws_eks_cluster defined
    Then it must contain enabled_cluster_log_types
    And its value must contain api
    And its value must contain audit
    And its value must contain authenticator
