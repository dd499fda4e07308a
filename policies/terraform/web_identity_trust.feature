# Roles assumed with an OIDC token (GitHub Actions, EKS service accounts through IRSA). A trust without an
# exact subject lets any repository, branch or service account of the issuer assume the role. The
# terraform-compliance gate also runs this feature on a plan of infra/modules/irsa_role, whose trust is
# unknown in the root plan until the cluster (its OIDC issuer) exists.
#
# "its StringEquals must be <regex>" holds for a statement when one value under its StringEquals matches
# the whole regex: each statement must carry the STS audience, and a subject of the issuer's exact form
# (a GitHub repository and ref or environment, or one service account), with no wildcard anywhere.
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
    And its StringEquals must be sts\.amazonaws\.com

  @noskip
  Scenario: Web-identity trust requires one exact subject
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    When its Action is sts:AssumeRoleWithWebIdentity
    Then it must contain Condition
    And its StringEquals must be (repo:[^*?]+|system:serviceaccount:[^*?:]+:[^*?:]+)
