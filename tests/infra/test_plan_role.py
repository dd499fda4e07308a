"""The pull-request plan role reads what `terraform plan` of infra/ reads, derived from the plan itself:
every resource type the plan manages maps to the IAM service that describes it, each such service has
read actions in the role's policy, no other service does, and no action that returns data rather than
configuration (secret values, objects, log events, image layers) is allowed."""

from __future__ import annotations

import copy
import json
from fnmatch import fnmatchcase

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.system]

POLICY_ADDRESS = "module.github_oidc.aws_iam_role_policy.plan"

# Resource-type prefix -> the IAM service its provider reads call (the longest prefix wins). None: the
# type calls no AWS API (or only sts:GetCallerIdentity, which needs no permission).
SERVICE_OF_TYPE = {
    "aws_acm_": "acm",
    "aws_cloudwatch_dashboard": "cloudwatch",
    "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_cloudwatch_event_": "events",
    "aws_cloudwatch_log_": "logs",
    "aws_codebuild_": "codebuild",
    "aws_codeconnections_": "codeconnections",
    "aws_default_security_group": "ec2",
    "aws_ec2_": "ec2",
    "aws_eip": "ec2",
    "aws_flow_log": "ec2",
    "aws_internet_gateway": "ec2",
    "aws_launch_template": "ec2",
    "aws_nat_gateway": "ec2",
    "aws_route": "ec2",
    "aws_security_group": "ec2",
    "aws_subnet": "ec2",
    "aws_vpc": "ec2",
    "aws_availability_zones": "ec2",
    "aws_ecr_": "ecr",
    "aws_eks_": "eks",
    "aws_iam_": "iam",
    "aws_kms_": "kms",
    "aws_lb": "elasticloadbalancing",
    "aws_route53_": "route53",
    "aws_s3_": "s3",
    "aws_secretsmanager_": "secretsmanager",
    "aws_sns_": "sns",
    "aws_sqs_": "sqs",
    "aws_wafv2_": "wafv2",
    "aws_caller_identity": None,
    "aws_elb_service_account": None,
    "aws_partition": None,
    "aws_region": None,
}

# Reads that return data, not configuration: a pull request must not reach them through the plan role.
FORBIDDEN = (
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:StartQuery",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetAuthorizationToken",
    "ec2:GetPasswordData",
    "ec2:GetConsoleOutput",
    "cloudwatch:GetMetricData",
    "wafv2:GetSampledRequests",
    "codeconnections:GetConnectionToken",
    "kms:Decrypt",
    "sqs:ReceiveMessage",
    "s3:PutObject",
    "s3:DeleteObject",
)


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _service(resource_type: str) -> str | None:
    prefixes = [prefix for prefix in SERVICE_OF_TYPE if resource_type.startswith(prefix)]
    assert prefixes, f"{resource_type}: map it to the IAM service its reads call (SERVICE_OF_TYPE)"
    return SERVICE_OF_TYPE[max(prefixes, key=len)]


def _state_object(plan: dict) -> str:
    variables = plan["variables"]
    return f"arn:aws:s3:::{variables['state_bucket']['value']}/{variables['state_key']['value']}"


def problems(policy: dict, plan: dict) -> list[str]:
    """What is wrong with the plan role's policy against the plan's resource types (empty: nothing)."""
    needed = {_service(rc["type"]) for rc in plan["resource_changes"]} - {None}
    # The state is an S3 object, encrypted with a KMS key: read whatever the plan manages.
    needed |= {"s3"} | ({"kms"} if plan["variables"]["state_kms_key_arn"]["value"] else set())
    allowed = [s for s in _as_list(policy["Statement"]) if s["Effect"] == "Allow"]
    granted = {action.split(":")[0] for s in allowed for action in _as_list(s["Action"])}
    found = [f"no read actions for {service}, which the plan reads" for service in sorted(needed - granted)]
    found += [f"{service} granted, but no planned type needs it" for service in sorted(granted - needed)]
    state = _state_object(plan)
    for statement in allowed:
        for action in _as_list(statement["Action"]):
            if action == "*" or action.endswith(":*"):
                found.append(f"{action}: a whole service, not its reads")
            for forbidden in FORBIDDEN:
                if not fnmatchcase(forbidden.lower(), action.lower()):
                    continue
                resources = _as_list(statement["Resource"])
                if forbidden == "s3:GetObject" and resources == [state]:
                    continue
                if forbidden == "kms:Decrypt" and "*" not in resources and "kms:ViaService" in str(statement):
                    continue
                found.append(f"{action} allows {forbidden} on {resources}")
    return found


@pytest.fixture(scope="module")
def plan_policy(plans):
    (change,) = [rc for rc in plans["root"]["resource_changes"] if rc["address"] == POLICY_ADDRESS]
    return json.loads(change["change"]["after"]["policy"])


def test_the_plan_role_reads_exactly_the_services_of_the_planned_types(plans, plan_policy):
    assert len({rc["type"] for rc in plans["root"]["resource_changes"]}) >= 30, (
        "the plan must carry its types"
    )
    assert problems(plan_policy, plans["root"]) == []


def test_the_plan_role_reads_the_state_object_only_and_writes_nothing(plans, plan_policy):
    objects = [s["Resource"] for s in plan_policy["Statement"] if "s3:GetObject" in _as_list(s["Action"])]
    assert objects == [_state_object(plans["root"])]
    (listing,) = [s for s in plan_policy["Statement"] if s["Sid"] == "ListTheState"]
    assert listing["Condition"] == {
        "StringEquals": {"s3:prefix": [plans["root"]["variables"]["state_key"]["value"], "env:/"]}
    }


def _without(policy: dict, service: str) -> dict:
    broken = copy.deepcopy(policy)
    for statement in broken["Statement"]:
        statement["Action"] = [a for a in _as_list(statement["Action"]) if not a.startswith(f"{service}:")]
    return broken


def _plus(policy: dict, action: str, resource: str = "*") -> dict:
    broken = copy.deepcopy(policy)
    broken["Statement"].append({"Effect": "Allow", "Action": action, "Resource": resource})
    return broken


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda p: _without(p, "wafv2"), "no read actions for wafv2"),
        (lambda p: _without(p, "ec2"), "no read actions for ec2"),
        (lambda p: _plus(p, "dynamodb:DescribeTable"), "dynamodb granted, but no planned type needs it"),
        (lambda p: _plus(p, "secretsmanager:Get*"), "allows secretsmanager:GetSecretValue"),
        (lambda p: _plus(p, "s3:GetObject", "arn:aws:s3:::*"), "allows s3:GetObject"),
        (lambda p: _plus(p, "logs:Get*"), "allows logs:GetLogEvents"),
        (lambda p: _plus(p, "ecr:*"), "ecr:*: a whole service"),
        (lambda p: _plus(p, "s3:PutObject", "arn:aws:s3:::b/k.tflock"), "allows s3:PutObject"),
    ],
    ids=[
        "missing-service",
        "missing-ec2",
        "unneeded-service",
        "secret-values",
        "any-object",
        "log-events",
        "whole-service",
        "lock-write",
    ],
)
def test_a_broken_copy_of_the_policy_is_named(plans, plan_policy, mutate, expected):
    found = problems(mutate(plan_policy), plans["root"])
    assert any(expected in problem for problem in found), found


def test_the_policy_follows_the_plans_types(plans, plan_policy):
    """A plan without WAF makes the WAF reads surplus; a type of an unmapped service must be mapped."""
    plan = copy.deepcopy(plans["root"])
    plan["resource_changes"] = [
        rc for rc in plan["resource_changes"] if not rc["type"].startswith("aws_wafv2_")
    ]
    assert problems(plan_policy, plan) == ["wafv2 granted, but no planned type needs it"]
    plan["resource_changes"].append({"type": "aws_dynamodb_table", "address": "aws_dynamodb_table.locks"})
    with pytest.raises(AssertionError, match="aws_dynamodb_table: map it"):
        problems(plan_policy, plan)
