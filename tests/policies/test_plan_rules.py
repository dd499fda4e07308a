"""The plan-based rules (terraform-compliance scenarios, the plan gate), each with a passing and a failing
case, on plan JSON made by really planning the fixture configurations (tests/policies/fixtures/terraform)
against the AWS emulator, four configurations in one emulator. The passing and failing plans go through
`make plan-compliance`, CI's plan job, pretty-printed as a person would keep them.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from policies.plan_facts import IAM_DOCUMENTS
from tests.policies.conftest import (
    FIXTURES,
    PolicyRun,
    run_plan_compliance,
    run_policy,
    scenario_names,
)
from tests.support import background
from tools.infra import aws_emulator, tfenv

pytestmark = pytest.mark.slow

CONFIGS = ("passing", "failing", "empty", "unknowns")
# The fixtures have no provider block: the default provider, in this region.
REGION = "eu-west-1"

# Scenario (and outline row) -> what its failure on the failing plan must name: the fixture's cases, one
# per spelling of the violation (failing/meaning.tf holds the equivalent spellings).
FAILING_CASES: dict[str, tuple[str, ...]] = {
    "Allow statements grant no wildcard action [aws_iam_role, assume_role_policy]": (
        "FixtureTrustWildcardAction",
    ),
    "Allow statements grant no wildcard action [aws_iam_role_policy, policy]": (
        "FixtureServiceWildcardAction",
        "FixtureMixedCaseServiceWildcard",
        "FixtureEveryServiceGlob",
        "FixtureServiceNameGlob",
        "FixtureQuestionStarGlob",
    ),
    "Allow statements grant no wildcard action [aws_kms_key, policy]": ("FixtureKeyWildcardAction",),
    "Trust policies allow exact actions, not globs": (
        "FixtureTrustWildcardAction",
        "FixtureTrustAssumeRoleGlob",
        "FixtureTrustQuestionGlob",
    ),
    "Allow statements list what they grant instead of what they leave out [aws_iam_policy, policy]": (
        "FixtureNotAction",
    ),
    "Allow statements on every resource grant only actions that take no resource [aws_iam_role_policy]": (
        "FixtureEveryResource",
        "FixtureEveryBucket",
        "FixtureEveryBucketObject",
        "FixtureAnyAccount",
        "FixtureAnyRegion",
    ),
    "Service principals in resource policies carry aws:SourceAccount, aws:SourceArn or the encryption context"
    " of one account [aws_sns_topic_policy]": ("FixtureServiceWithoutSource",),
    "Web-identity trust conditions hold no wildcard": ("FixtureOidcWildcardSubject",),
    "Web-identity trust requires the STS audience": ("FixtureOidcNoAudience",),
    "Web-identity trust requires one exact subject": ("FixtureOidcNoSubject",),
    "Pod Identity trust names the EKS Pod Identity service alone": ("FixturePodIdentitySharedPrincipal",),
    "Pod Identity trust allows only sts:AssumeRole and sts:TagSession": ("FixturePodIdentityExtraAction",),
    "Pod Identity trust is held to the account by aws:SourceAccount": ("FixturePodIdentityNoSourceAccount",),
    "HTTPS listeners negotiate with a TLS 1.3 policy": (
        "aws_lb_listener.https_tls12",
        "aws_lb_listener.https_tls13_admits_tls10",
    ),
    "Plain-HTTP listeners have no action but a redirect": ("aws_lb_listener.http_forward",),
    # The scenario reads the redirect action itself, which names no listener; one case redirects to HTTP.
    "Plain-HTTP listeners redirect to HTTPS": ("It is set to HTTP.",),
    "Target groups health-check the readiness path (/ready)": ("aws_lb_target_group.wrong_health_path",),
    "Target group health checks are enabled": ("aws_lb_target_group.health_check_off",),
    "ECR image tags are immutable": ("aws_ecr_repository.mutable_tags",),
    "ECR scans every pushed image": ("aws_ecr_repository.no_scan",),
    "ECR encrypts images with KMS": ("aws_ecr_repository.aes_encryption",),
    "EKS encrypts Kubernetes secrets with a KMS key": ("aws_eks_cluster.plain_secrets",),
    "EKS sends API server, audit and authenticator logs to CloudWatch": ("aws_eks_cluster.few_logs",),
    "SNS topics are encrypted with a KMS key": ("aws_sns_topic.plain_topic",),
    "SQS queues are encrypted with a KMS key": ("aws_sqs_queue.plain_queue",),
    "CloudWatch log groups are encrypted with a KMS key": ("aws_cloudwatch_log_group.plain_logs",),
}
# Plan gate rule -> the cases its findings name on the failing plan, one finding each.
PLAN_GATE_CASES: dict[str, tuple[str, ...]] = {
    "POL_PLAN_004 iam:PassRole, however spelled, names the roles it may pass": (
        "aws_iam_user_policy.pass_any_role FixturePassAnyRole",
        "aws_iam_policy.pass_role_spellings FixturePassRoleGlob",
        "aws_iam_policy.pass_role_spellings FixturePassRoleMixedCase",
    ),
    "POL_PLAN_005 No set of CIDRs admits the internet but to the load balancer's HTTP and HTTPS ports": (
        "aws_eks_cluster.open_endpoint public endpoint",
        "aws_eks_cluster.internet_halves public endpoint",
        "aws_security_group.ssh_internet_quarters",
        "aws_vpc_security_group_ingress_rule.app_port_internet_halves",
        "aws_vpc_security_group_ingress_rule.every_port_ipv6_unicast",
    ),
    "POL_PLAN_006 Roles carry only the AWS-managed policies allowed for them": (
        "aws_iam_role.trust_action_glob carries arn:aws:iam::aws:policy/AdministratorAccess",
        "aws_iam_role.inline_managed_policy carries arn:aws:iam::aws:policy/PowerUserAccess",
    ),
}
# One row per IAM document type, in plan_facts' order: the feature's tables and the plan gate agree.
DOCUMENT_TYPES = tuple(f"{type_}, {attribute}" for type_, attribute in IAM_DOCUMENTS.items())


def plan_fixtures(workdir: Path) -> dict[str, Path]:
    """Plan JSON of each fixture configuration, planned in a scratch copy against one emulator."""
    plans = {}
    with aws_emulator.running(workdir / "emulator", lifetime_seconds=600) as aws:
        for name in CONFIGS:
            copy = shutil.copytree(FIXTURES / "terraform" / name, workdir / "scratch" / name)
            extra = {**aws.env(), "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
            env = tfenv.terraform_env(data_dir=copy / ".terraform", extra=extra)
            tfenv.terraform(["init", "-no-color", "-backend=false"], copy, env, f"init of {name}")
            tfenv.terraform(["plan", "-no-color", "-out=policy.tfplan"], copy, env, f"plan of {name}")
            plan = json.loads(
                tfenv.terraform(["show", "-json", "policy.tfplan"], copy, env, f"show of {name}")
            )
            plans[name] = workdir / f"{name}.json"
            plans[name].write_text(json.dumps(plan, indent=1), encoding="utf-8")
    return plans


@background.session_fixture
def plan_rule_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], dict[str, PolicyRun]]:
    """Plan JSON of each fixture configuration (a file each), and the plan gates' run on each."""
    work = tmp_path_factory.mktemp("fixture-plans")
    plans = plan_fixtures(work)
    reports = work / "runs"
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(run_plan_compliance, plans[name], reports / name)
            for name in ("passing", "failing", "empty")
        }
        futures["unknowns"] = pool.submit(
            run_policy, reports / "unknowns", gates="plan", plan=plans["unknowns"]
        )
        return plans, {name: future.result() for name, future in futures.items()}


@pytest.fixture
def plans(plan_rule_runs) -> dict[str, Path]:
    return plan_rule_runs[0]


@pytest.fixture
def runs(plan_rule_runs) -> dict[str, PolicyRun]:
    return plan_rule_runs[1]


def test_the_passing_plan_passes_every_plan_gate(runs):
    run = runs["passing"]
    assert run.returncode == 0, run.output[-4000:]
    for gate in ("plan", "terraform-compliance"):
        assert run.failures(gate) == {}
        assert run.errors(gate) == []


def test_every_scenario_ran_on_the_passing_plan_and_passed(runs):
    passed = runs["passing"].passed("terraform-compliance")
    ran = {name.split(" [")[0] for name in passed}
    assert set(scenario_names()) <= ran, f"never ran (skipped on every row): {set(scenario_names()) - ran}"
    outline = "Allow statements grant no wildcard action"
    rows = {name for name in passed if name.startswith(f"{outline} [")}
    assert rows == {f"{outline} [{row}]" for row in DOCUMENT_TYPES}


@pytest.mark.parametrize("scenario", sorted(FAILING_CASES))
def test_each_scenario_fails_on_its_own_case(runs, scenario):
    failures = runs["failing"].failures("terraform-compliance")
    assert scenario in failures, f"{scenario} did not fail; failed: {sorted(failures)}"
    for case in FAILING_CASES[scenario]:
        assert case in failures[scenario], f"{scenario} did not name {case}:\n{failures[scenario]}"


def test_the_failing_plan_fails_only_where_a_case_was_planted(runs):
    failed = set(runs["failing"].failures("terraform-compliance"))
    # A NotAction statement has no Action: the wildcard-action row of its document type fails with it; an
    # iam:PassRole on "*" is also a statement on every resource.
    by_products = {
        "Allow statements grant no wildcard action [aws_iam_policy, policy]",
        "Allow statements on every resource grant only actions that take no resource [aws_iam_user_policy]",
    }
    assert failed == set(FAILING_CASES) | by_products
    inventory = [name for name in scenario_names("@noskip") if name.startswith("The plan has")]
    assert set(inventory) <= runs["failing"].passed("terraform-compliance")
    negative = ("FixtureDescribeGlobIsResourceless", "FixturePassRoleNamed")
    assert not [
        text
        for text in runs["failing"].failures("terraform-compliance").values()
        if any(case in text for case in negative)
    ]


@pytest.mark.parametrize("rule", sorted(PLAN_GATE_CASES))
def test_each_plan_gate_rule_fails_on_its_own_cases_only(runs, rule):
    failures = runs["failing"].failures("plan")
    assert rule in failures, f"{rule} did not fail; failed: {sorted(failures)}"
    for case in PLAN_GATE_CASES[rule]:
        assert case in failures[rule], f"{rule} did not name {case}:\n{failures[rule]}"
    assert failures[rule].count("\n") + 1 == len(PLAN_GATE_CASES[rule]), failures[rule]
    assert set(failures) == set(PLAN_GATE_CASES), "the plan gate fails only where a case was planted"


def test_an_empty_plan_fails_every_noskip_scenario_by_name(runs):
    run = runs["empty"]
    assert run.returncode != 0
    failed = set(run.failures("terraform-compliance"))
    noskip = set(scenario_names("@noskip"))
    assert noskip <= failed
    assert failed <= noskip, "only the scenarios that must find their resources fail on an unrelated plan"


def test_ci_plan_job_gets_the_console_report_and_its_plan_untouched(runs, plans):
    report = runs["failing"].reports.parent / f"{runs['failing'].reports.name}-compliance.txt"
    assert "Failure:" in report.read_text(encoding="utf-8")
    assert "aws_ecr_repository.mutable_tags" in report.read_text(encoding="utf-8")
    plan = plans["failing"].read_text(encoding="utf-8")
    assert plan == json.dumps(json.loads(plan), indent=1), "the judged plan file is left as it was"


def test_unknown_documents_and_keys_fail_the_plan_gate_by_rule(runs):
    run = runs["unknowns"]
    assert run.returncode != 0
    failures = run.failures("plan")
    documents = failures["POL_PLAN_002 IAM documents are known at plan time"]
    assert "aws_iam_role_policy.unknown_document.policy" in documents
    assert "module.own_role.aws_iam_role.this.assume_role_policy" in documents, "no trust is excepted"
    keys = failures["POL_PLAN_003 A KMS key attribute unknown at plan time is set from an aws_kms_key"]
    assert "aws_sns_topic.key_not_from_kms.kms_master_key_id" in keys
    assert "aws_sqs_queue" in keys, "the failure says where the value comes from"
    assert "key_from_kms_module" not in keys, "a key from an aws_kms_key behind a module output is accepted"


def test_the_passing_plan_accepts_its_unknown_keys(runs):
    # An SNS topic, a log group, a secret and the EKS secrets key, each from aws_kms_key.this.
    assert "4 KMS key attributes unknown until apply, each set from an aws_kms_key" in runs["passing"].output
