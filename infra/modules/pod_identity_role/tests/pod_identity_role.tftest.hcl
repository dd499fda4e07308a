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
  name            = "predictor-app"
  cluster_name    = "predictor-production"
  namespace       = "predictor"
  service_account = "predictor"
  inline_policies = { read = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}

run "trust_is_pod_identity_in_this_account_for_one_service_account" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal == { Service = "pods.eks.amazonaws.com" }
    error_message = "Only the EKS Pod Identity service may assume the role."
  }
  assert {
    condition     = toset(jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Action) == toset(["sts:AssumeRole", "sts:TagSession"])
    error_message = "Pod Identity needs sts:AssumeRole and sts:TagSession, nothing else."
  }
  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition == {
      StringEquals = {
        "aws:SourceAccount"                         = "123456789012"
        "aws:RequestTag/eks-cluster-arn"            = "arn:aws:eks:eu-west-1:123456789012:cluster/predictor-production"
        "aws:RequestTag/kubernetes-namespace"       = "predictor"
        "aws:RequestTag/kubernetes-service-account" = "predictor"
      }
    }
    error_message = "The trust must be StringEquals on this account, the cluster and the exact service account."
  }
  assert {
    condition = (
      aws_eks_pod_identity_association.this[0].namespace == "predictor" &&
      aws_eks_pod_identity_association.this[0].service_account == "predictor" &&
      aws_eks_pod_identity_association.this[0].cluster_name == "predictor-production"
    )
    error_message = "One association binds the role to the service account the trust names."
  }
  assert {
    condition     = aws_iam_role_policy.this["read"].name == "read"
    error_message = "Inline policies are attached by name."
  }
}

run "an_addon_makes_its_own_association" {
  command = plan

  variables {
    associated_by_addon = true
  }

  assert {
    condition     = length(aws_eks_pod_identity_association.this) == 0
    error_message = "A role an add-on associates gets no second association."
  }
}

run "wildcard_namespace_is_rejected" {
  command = plan

  variables {
    namespace = "*"
  }

  expect_failures = [var.namespace]
}

run "wildcard_service_account_is_rejected" {
  command = plan

  variables {
    service_account = "predictor*"
  }

  expect_failures = [var.service_account]
}
