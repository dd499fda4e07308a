# Roles assumed with an OIDC token (GitHub Actions). A trust without an exact subject lets any
# repository, branch or environment of the issuer assume the role. (Pods assume roles through EKS Pod
# Identity instead: pod_identity_trust.feature.)
#
# "its StringEquals must be <regex>" holds for a statement when one value under its StringEquals matches
# the whole regex: each statement must carry the STS audience, and a subject of the issuer's exact form
# (a GitHub repository and ref or environment), with no wildcard anywhere.
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
    And its StringEquals must be repo:[^*?]+
