# Every IAM document whose content the plan knows: identity policies, trust policies and resource
# policies. A document unknown at plan time fails the plan gate instead (policies/README.md, "Unknown at
# plan time"), so these scenarios never judge a document they cannot see. Only Allow statements grant
# anything: Deny statements may use wildcards on purpose (the buckets deny s3:* over plain HTTP).
#
# The document types are listed one per row; a row whose type the plan does not hold is skipped. That
# the plan holds IAM documents at all is plan_inventory.feature's job.
#
# IAM reads an action as a case-insensitive glob (`*` any run, `?` one character), so the regexes below
# judge its shape: a glob in the service part spans services (`*`, `*:*`, `s?:GetObject`), and a name
# part of globs only spans the service (`s3:*`, `S3:*`, `sqs:?*`). Whether a glob reaches iam:PassRole is
# the plan gate's POL_PLAN_004 (a regex cannot match a glob against a name).
Feature: IAM least privilege

  Scenario Outline: Allow statements grant no wildcard action
    Given I have <type> defined
    When it has <document>
    Then it must contain <document>
    And it must contain Statement
    When its Effect is Allow
    Then it must contain Action
    And its value must not match the "^([^:]*[*?].*|[^:]*:[*?]*\*[*?]*)$" regex

    Examples:
      | type                             | document           |
      | aws_iam_role                     | assume_role_policy |
      | aws_iam_role_policy              | policy             |
      | aws_iam_policy                   | policy             |
      | aws_iam_user_policy              | policy             |
      | aws_iam_group_policy             | policy             |
      | aws_kms_key                      | policy             |
      | aws_sns_topic_policy             | policy             |
      | aws_sqs_queue_policy             | policy             |
      | aws_s3_bucket_policy             | policy             |
      | aws_ecr_repository_policy        | policy             |
      | aws_secretsmanager_secret_policy | policy             |

  # A trust policy grants one STS action by name: `sts:AssumeRole*` also grants AssumeRoleWithWebIdentity
  # and AssumeRoleWithSAML to whoever the principal is.
  Scenario: Trust policies allow exact actions, not globs
    Given I have aws_iam_role defined
    When it has assume_role_policy
    Then it must contain assume_role_policy
    And it must contain Statement
    When its Effect is Allow
    Then it must contain Action
    And its value must not match the ".*[*?].*" regex

  Scenario Outline: Allow statements list what they grant instead of what they leave out
    Given I have <type> defined
    When it has <document>
    Then it must contain <document>
    And it must contain Statement
    When its Effect is Allow
    Then it must not contain NotAction
    And it must not contain NotResource
    And it must not contain NotPrincipal

    Examples:
      | type                             | document           |
      | aws_iam_role                     | assume_role_policy |
      | aws_iam_role_policy              | policy             |
      | aws_iam_policy                   | policy             |
      | aws_iam_user_policy              | policy             |
      | aws_iam_group_policy             | policy             |
      | aws_kms_key                      | policy             |
      | aws_sns_topic_policy             | policy             |
      | aws_sqs_queue_policy             | policy             |
      | aws_s3_bucket_policy             | policy             |
      | aws_ecr_repository_policy        | policy             |
      | aws_secretsmanager_secret_policy | policy             |

  # Only actions IAM authorizes on no particular resource may name every resource, and only these, by
  # name (any case): ecr:GetAuthorizationToken (the registry login), pricing:GetProducts (the public price
  # list), iam:ListInstanceProfiles and kms:ListAliases (list calls), cloudwatch:GetMetricData (metric
  # reads: a canary release's analysis) and the read-only Describe calls.
  # Every resource is `*` or an ARN with a glob before its resource name: in its partition, service, region
  # or account (`arn:aws:iam::*:role/x`) or its bucket or resource type (`arn:aws:s3:::*`,
  # `arn:aws:s3:::fix*/*`). Key policies are not listed: in a key policy "*" is the key itself.
  Scenario Outline: Allow statements on every resource grant only actions that take no resource
    Given I have <type> defined
    When it has policy
    Then it must contain policy
    And it must contain Statement
    When its Effect is Allow
    When its Resource is "^(\*|arn:([^:]*:)?([^:]*:)?([^:]*:)?[^:]*[*?].*|arn:[^:]*:[^:]*:[^:]*:[^:]*:[^/:]*[*?].*)$" regex
    Then it must contain Action
    And its value must match the "(?i)^(ecr:GetAuthorizationToken|pricing:GetProducts|iam:ListInstanceProfiles|kms:ListAliases|cloudwatch:GetMetricData|[a-z0-9-]+:Describe[A-Za-z0-9*?]*)$" regex

    Examples:
      | type                             |
      | aws_iam_role_policy              |
      | aws_iam_policy                   |
      | aws_iam_user_policy              |
      | aws_iam_group_policy             |
      | aws_sns_topic_policy             |
      | aws_sqs_queue_policy             |
      | aws_s3_bucket_policy             |
      | aws_ecr_repository_policy        |
      | aws_secretsmanager_secret_policy |
