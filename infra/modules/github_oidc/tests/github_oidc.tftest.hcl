mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
}

variables {
  repository         = "example-org/predictor-service"
  deploy_role_name   = "predictor-production-github-deploy"
  plan_role_name     = "predictor-production-github-plan"
  ecr_repository_arn = "arn:aws:ecr:eu-west-1:123456789012:repository/predictor"
  cluster_name       = "predictor-production"
  cluster_arn        = "arn:aws:eks:eu-west-1:123456789012:cluster/predictor-production"
  state_bucket       = "predictor-tfstate-123456789012"
  state_key          = "predictor/production/terraform.tfstate"
  deployer_group     = "predictor-deployers"
  weighted_listener  = { load_balancer_name = "predictor-production", tag = { TrafficWeightedBy = "release" } }
}

run "deploy_role_trusts_only_the_production_environment_of_this_repository" {
  command = plan

  assert {
    condition     = length(jsondecode(aws_iam_role.deploy.assume_role_policy).Statement) == 1
    error_message = "The deploy trust policy must have exactly one statement."
  }
  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/predictor-service:environment:production"
    error_message = "By default the deploy role must trust exactly repo:OWNER/REPO:environment:production (the deploy job's environment)."
  }
  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    error_message = "The deploy role must require the sts.amazonaws.com audience."
  }
  assert {
    condition     = keys(jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition) == ["StringEquals"]
    error_message = "Trust conditions must be StringEquals only (no StringLike wildcards)."
  }
  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    error_message = "The deploy role must trust the account's GitHub OIDC provider."
  }
  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity"
    error_message = "The deploy role may only be assumed with a web identity."
  }
  assert {
    condition     = aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The GitHub OIDC provider must have the GitHub issuer and the STS audience."
  }
}

run "deploy_role_can_trust_the_main_branch_instead" {
  command = plan

  variables {
    deploy_subject = "ref:refs/heads/main"
  }

  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/predictor-service:ref:refs/heads/main"
    error_message = "The deploy role must trust exactly repo:OWNER/REPO:ref:refs/heads/main."
  }
}

run "wildcard_subjects_are_rejected" {
  command = plan

  variables {
    deploy_subject = "ref:refs/heads/*"
  }

  expect_failures = [var.deploy_subject]
}

run "other_environments_are_rejected" {
  command = plan

  variables {
    deploy_subject = "environment:*"
  }

  expect_failures = [var.deploy_subject]
}

run "wildcard_repositories_are_rejected" {
  command = plan

  variables {
    repository = "example-org/*"
  }

  expect_failures = [var.repository]
}

run "deploy_permissions_are_exactly_push_one_image_describe_one_cluster_and_weigh_one_listener" {
  command = plan

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement :
      alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")])
    ])
    error_message = "The deploy policy must not use wildcard actions."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement :
      s.Resource != "*" || alltrue([for a in flatten([s.Action]) : contains(["ecr:GetAuthorizationToken", "cloudwatch:GetMetricData"], a) || startswith(a, "elasticloadbalancing:Describe")])
    ])
    error_message = "Only calls that take no resource (the registry login, metric reads, Describe calls) may have the * resource."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s if contains(flatten([s.Action]), "elasticloadbalancing:ModifyListener")
      ]) == {
      Sid       = "ShiftTheCanaryWeights"
      Effect    = "Allow"
      Action    = "elasticloadbalancing:ModifyListener"
      Resource  = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/predictor-production/*"
      Condition = { StringEquals = { "aws:ResourceTag/TrafficWeightedBy" = "release" } }
    }
    error_message = "ModifyListener must be allowed only on this load balancer's listener that carries the weighted tag."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s.Resource if contains(flatten([s.Action]), "ecr:PutImage")
    ]) == var.ecr_repository_arn
    error_message = "Pushing must be allowed on the one repository ARN only."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.deploy.policy).Statement : s if contains(flatten([s.Action]), "eks:DescribeCluster")
    ]).Resource == var.cluster_arn
    error_message = "eks:DescribeCluster must be allowed on the one cluster ARN only."
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.deploy.policy).Statement) == 5
    error_message = "The deploy policy must hold exactly the login, push/pull, describe, weigh and judge statements."
  }
}

run "deploy_role_gets_no_eks_access_policy_only_the_deployer_group" {
  command = plan

  assert {
    condition     = aws_eks_access_entry.deploy.kubernetes_groups == toset(["predictor-deployers"])
    error_message = "The deploy role must be in the deployer group (and only it), which the namespaced Role derived from the deployed kinds is bound to."
  }
  assert {
    condition     = aws_eks_access_entry.deploy.type == "STANDARD"
    error_message = "The deploy role's access entry is a standard (IAM principal) entry."
  }
}

run "a_listener_not_singled_out_by_a_tag_is_rejected" {
  command = plan

  variables {
    weighted_listener = { load_balancer_name = "predictor-production", tag = {} }
  }

  expect_failures = [var.weighted_listener]
}

run "privileged_or_malformed_deployer_groups_are_rejected" {
  command = plan

  variables {
    deployer_group = "system:masters"
  }

  expect_failures = [var.deployer_group]
}

run "plan_role_is_read_only_and_trusts_pull_requests" {
  command = plan

  variables {
    state_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  }

  assert {
    condition     = jsondecode(aws_iam_role.plan.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:example-org/predictor-service:pull_request"
    error_message = "The plan role must trust exactly repo:OWNER/REPO:pull_request."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement :
      s.Effect == "Allow" && alltrue([for a in flatten([s.Action]) : a != "*" && !endswith(a, ":*")])
    ])
    error_message = "The plan role's policy must allow named reads, never a whole service."
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement :
      alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")])
    ])
    error_message = "Every action of the plan role is named: a Get* would bring in reads of data (secret values, objects)."
  }
  assert {
    condition = alltrue([
      for r in one([for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : s.Resource if s.Sid == "ReadManagedConfiguration"]) :
      strcontains(r, ":123456789012:") || startswith(r, "arn:aws:route53:::")
    ])
    error_message = "Reads that take a resource are limited to this account's resources."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : s.Resource if contains(flatten([s.Action]), "s3:GetObject")
    ]) == "arn:aws:s3:::predictor-tfstate-123456789012/predictor/production/terraform.tfstate"
    error_message = "The only object the plan role may read is the state."
  }
  assert {
    condition = length([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : s
      if anytrue([for a in flatten([s.Action]) : contains(["s3:PutObject", "s3:DeleteObject", "s3:*"], a)])
    ]) == 0
    error_message = "The plan role writes nothing, not even the state's lock file."
  }
  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : s.Resource if s.Action == "kms:Decrypt"
    ]) == var.state_kms_key_arn
    error_message = "The plan role may only decrypt with the state key."
  }
  assert {
    condition     = !anytrue([for a in one([for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : s.Action if s.Sid == "ReadManagedConfiguration"]) : startswith(a, "route53:")])
    error_message = "Without managed DNS records the plan role reads no Route 53."
  }
}

run "plan_role_reads_managed_buckets_configuration_not_their_objects" {
  command = plan

  variables {
    managed_bucket_names = ["predictor-production-alb-access-logs-123456789012"]
    reads_dns_records    = true
  }

  assert {
    condition     = contains(one([for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : s.Action if s.Sid == "ReadManagedConfiguration"]), "route53:ListResourceRecordSets")
    error_message = "With managed DNS records the plan role must read them."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : s.Resource if s.Sid == "ReadManagedBuckets"
    ]) == ["arn:aws:s3:::predictor-production-alb-access-logs-123456789012"]
    error_message = "Bucket configuration reads must name the managed buckets."
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.plan.policy).Statement : s if s.Action == "kms:Decrypt"]) == 0
    error_message = "Without a state key there is nothing to decrypt."
  }
}

run "an_existing_oidc_provider_is_reused" {
  command = plan

  variables {
    create_oidc_provider = false
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "No provider may be created when the account already has one."
  }
  assert {
    condition     = jsondecode(aws_iam_role.deploy.assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    error_message = "The deploy role must still trust the account's GitHub OIDC provider."
  }
}
