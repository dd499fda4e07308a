# Roles that pods assume through EKS Pod Identity: the trust the EKS user guide requires
# (pods.eks.amazonaws.com; sts:AssumeRole to assume, sts:TagSession for the session tags) and nothing
# more, held to this account by aws:SourceAccount so the role serves only associations made in it. The
# trust is static (no OIDC issuer), so every such role is judged in the root plan itself.
#
# terraform-compliance cannot compare a list of services: an Allow statement whose Principal Service is a
# list fails these scenarios (TypeError). Give each service its own statement.
Feature: Pod Identity trust

  Scenario: Pod Identity trust names the EKS Pod Identity service alone
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    When its Effect is Allow
    And its Principal includes an entry where Service is pods.eks.amazonaws.com
    Then it must contain Principal
    And it must not contain AWS
    And it must not contain Federated

  Scenario: Pod Identity trust allows only sts:AssumeRole and sts:TagSession
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    When its Effect is Allow
    And its Principal includes an entry where Service is pods.eks.amazonaws.com
    Then it must contain Action
    And its value must match the "^sts:(AssumeRole|TagSession)$" regex

  Scenario: Pod Identity trust is held to the account by aws:SourceAccount
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    When its Effect is Allow
    And its Principal includes an entry where Service is pods.eks.amazonaws.com
    Then it must contain Condition
    And it must contain StringEquals
    And it must contain aws:SourceAccount
    And its value must match the "^[0-9]{12}$" regex
