# Roles assumed with an OIDC token (GitHub Actions, EKS service accounts through IRSA). A trust without an
# exact subject lets any repository, branch or service account of the issuer assume the role. The plan
# gate also runs this feature on a plan of infra/modules/irsa_role, whose trust is unknown in the root
# plan until the cluster (its OIDC issuer) exists.
Feature: Web-identity trust

  @noskip
  Scenario: Web-identity trust conditions hold no wildcard
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    When its Action is sts:AssumeRoleWithWebIdentity
    Then it must contain Condition
    And its value must not match the ".*[*?].*" regex

  @noskip
  Scenario: Web-identity trust requires the STS audience
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    When its Action is sts:AssumeRoleWithWebIdentity
    Then it must contain Condition
    And it must contain StringEquals
    And any of its values must match the "^sts\.amazonaws\.com$" regex

  @noskip
  Scenario: Web-identity trust requires one exact subject
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    When its Action is sts:AssumeRoleWithWebIdentity
    Then it must contain Condition
    And it must contain StringEquals
    And any of its values must match the "^(repo:[^*?]+|system:serviceaccount:[^*?:]+:[^*?:]+)$" regex
