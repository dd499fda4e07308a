mock_provider "aws" {}

variables {
  name              = "predictor-app"
  oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"
  oidc_issuer       = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"
  namespace         = "predictor"
  service_account   = "predictor"
  inline_policies   = { read = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
}

run "trust_is_one_service_account_and_the_sts_audience" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition == {
      StringEquals = {
        "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE:aud" = "sts.amazonaws.com"
        "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE:sub" = "system:serviceaccount:predictor:predictor"
      }
    }
    error_message = "The trust must be StringEquals on the exact service account subject and the STS audience."
  }
  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Federated == var.oidc_provider_arn
    error_message = "The trust must name the cluster's OIDC provider."
  }
  assert {
    condition     = aws_iam_role_policy.this["read"].name == "read"
    error_message = "Inline policies are attached by name."
  }
}

run "issuer_with_scheme_is_rejected" {
  command = plan

  variables {
    oidc_issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE"
  }

  expect_failures = [var.oidc_issuer]
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
