Feature: EKS control plane

  # Which networks a public endpoint admits is the plan gate's POL_PLAN_005: CIDR sets are judged by the
  # address space they cover, which a regex cannot add up.
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
