"""Bad configuration stops synthesis with the field named, and leaves the output directory untouched."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from typing import NamedTuple

import pytest

from manifests_py.config import ConfigError, ExposureKind, load_environment
from manifests_py.service_card import SERVICE_CARD_PATH, ServiceCardError, load_service_card
from manifests_py.synth import SynthesisError, synthesize
from tests.manifests.conftest import REPO_ROOT

DIGEST = "sha256:" + "ab" * 32


def set_field(environments, env, dotted, value):
    """Rewrite one field of <env>.toml (value None deletes it) as plain TOML text."""
    path = environments / f"{env}.toml"
    document = tomllib.loads(path.read_text())
    *tables, key = dotted.split(".")
    node = document
    for table in tables:
        node = node.setdefault(table, {})
    if value is None:
        del node[key]
    else:
        node[key] = value
    path.write_text(_toml(document))


def _toml(document, prefix=""):
    def scalar(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(value, list):
            return "[" + ", ".join(scalar(item) for item in value) + "]"
        if isinstance(value, dict):
            return "{ " + ", ".join(f"{k} = {scalar(v)}" for k, v in value.items()) + " }"
        return repr(value)

    lines = [f"{k} = {scalar(v)}" for k, v in document.items() if not isinstance(v, dict)]
    for key, value in document.items():
        if isinstance(value, dict):
            name = f"{prefix}{key}"
            lines += ["", f"[{name}]", _toml(value, prefix=f"{name}.")]
    return "\n".join(lines) + "\n"


def snapshot(directory):
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def out_dir(tmp_path):
    """An output directory that already holds a previous synthesis (a stand-in file is enough)."""
    out = tmp_path / "dist"
    (out / "dev").mkdir(parents=True)
    (out / "dev" / "previous.yaml").write_text("kind: Previous\n")
    return out


class Case(NamedTuple):
    env: str
    field: str
    value: object  # None deletes the field
    location: str  # where the problem is reported: <env>.toml: <location>: ...
    fragment: str  # what the reason must say


OTHER_ACCOUNT_TARGET_GROUP = (
    "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/predictor-prod/7b6a5f4e3d2c1b0a"
)
TG = "terraform_outputs.target_group_arn"
CANARY_TG = "terraform_outputs.canary_target_group_arn"
LISTENER = "terraform_outputs.https_listener_arn"
# One case per rule, each checked for its location and a meaningful fragment of its reason.
BAD_CONFIGS = [
    # Missing field, wrong type, out of range, unknown field.
    Case("dev", "scale.max", None, "scale.max", "missing"),
    Case("prod", "scale.min", "3", "scale.min", "integer, got '3'"),
    Case("dev", "scale.cpu_target_percent", 120, "scale.cpu_target_percent", "100, got 120"),
    Case("dev", "scale.mni", 1, "scale.mni", "unknown field"),
    Case("prod", "server.host", "any", "server.host", "unknown field"),
    Case("prod", "node_pool.zones", [], "node_pool.zones", "empty"),
    Case(
        "prod", "node_pool.disruption_budgets", [], "node_pool.disruption_budgets", "may disrupt every node"
    ),
    Case("dev", "node_pool.zonez", ["eu-west-1a"], "node_pool.zonez", "unknown field"),
    Case(
        "prod",
        "terraform_outputs.cluster_name",
        None,
        "terraform_outputs.cluster_name",
        "needed for [node_pool]",
    ),
    Case("prod", TG, None, TG, "needed for exposure.kind = 'target-group-binding'"),
    Case("prod", CANARY_TG, None, CANARY_TG, "needed for exposure.kind = 'target-group-binding'"),
    Case("dev", LISTENER, None, LISTENER, "needed for exposure.kind = 'target-group-binding'"),
    Case("prod", LISTENER, OTHER_ACCOUNT_TARGET_GROUP, LISTENER, "not a load balancer listener ARN"),
    # [traffic]: one case per class of mistake in a release's steps and limits.
    Case("dev", "traffic", None, "traffic", "missing"),
    Case("prod", "traffic.steps", [10, 10, 50], "traffic.steps[1]", "10 is not above the step before (10)"),
    Case("prod", "traffic.steps", [50, 25], "traffic.steps[1]", "25 is not above the step before (50)"),
    Case("prod", "traffic.steps", [0, 50], "traffic.steps[0]", "greater than or equal to 1, got 0"),
    Case("prod", "traffic.steps", [10, 100], "traffic.steps[1]", "less than or equal to 99, got 100"),
    Case("prod", "traffic.steps", [], "traffic.steps", "at least 1 item"),
    Case("prod", "traffic.steps", ["10"], "traffic.steps[0]", "integer, got '10'"),
    Case("dev", "traffic.step_seconds", 0, "traffic.step_seconds", "greater than 0, got 0"),
    Case("prod", "traffic.max_error_rate", 1.5, "traffic.max_error_rate", "less than or equal to 1, got 1.5"),
    Case("prod", "traffic.max_error_rate", -0.1, "traffic.max_error_rate", "greater than or equal to 0"),
    Case("prod", "traffic.max_p99_ms", 0, "traffic.max_p99_ms", "greater than 0, got 0"),
    Case("prod", "traffic.min_requests", -1, "traffic.min_requests", "greater than or equal to 0, got -1"),
    Case("prod", "traffic.max_5xx", 1, "traffic.max_5xx", "unknown field"),
    # Cross-field rules.
    Case("dev", "scale.min", 5, "scale.min", "5 is greater than max (3)"),
    Case(
        "prod",
        CANARY_TG,
        "arn:aws:elasticloadbalancing:eu-west-1:444455556666:targetgroup/predictor-production/7b6a5f4e3d2c1b0a",
        CANARY_TG,
        "the canary needs a target group of its own",
    ),
    Case("prod", CANARY_TG, OTHER_ACCOUNT_TARGET_GROUP, CANARY_TG, "account 444455556666"),
    Case(
        "dev", "scale.container_concurrency", 10, "scale.concurrency_target", "exceeds container_concurrency"
    ),
    Case("prod", "resources.cpu_request", "2", "resources.cpu_request", "2 exceeds cpu_limit (1)"),
    Case("prod", "resources.memory_request", "1Gi", "resources.memory_request", "exceeds memory_limit"),
    Case("prod", "resources.cpu_request", "0", "resources.cpu_request", "must be above zero"),
    Case(
        "prod",
        "node_pool.disruption_budgets",
        [{"nodes": "0", "schedule": "0 7 * * *"}],
        "node_pool.disruption_budgets[0].schedule",
        "schedule and duration go together",
    ),
    Case(
        "prod", "node_pool.zones", ["eu-west-1a", "us-east-1b"], "node_pool.zones", "not a zone of eu-west-1"
    ),
    Case(
        "prod", "node_pool.instance_families", ["r7i"], "node_pool.instance_families", "not a family of c, m"
    ),
    Case(
        "prod",
        "node_pool.termination_grace_period",
        "30s",
        "node_pool.termination_grace_period",
        "30s must exceed the pods' terminationGracePeriodSeconds",
    ),
    # ARNs tied to the account, region and partition.
    Case(
        "prod",
        TG,
        "arn:aws:elasticloadbalancing:eu-west-1:444455556666:loadbalancer/app/predictor/0123456789abcdef",
        TG,
        "is not a target group ARN in eu-west-1, account 444455556666",
    ),
    Case(
        "prod",
        TG,
        OTHER_ACCOUNT_TARGET_GROUP,
        TG,
        "is not a target group ARN in eu-west-1, account 444455556666",
    ),
    Case(
        "dev",
        "terraform_outputs.certificate_arn",
        "arn:aws:acm:eu-west-1:111122223333:certificate/x",
        "terraform_outputs.certificate_arn",
        "is not an ACM certificate ARN",
    ),
    # Bad patterns and choices.
    Case(
        "prod",
        "terraform_outputs.account_id",
        "4444",
        "terraform_outputs.account_id",
        "'4444' is not a 12-digit",
    ),
    Case(
        "prod",
        "terraform_outputs.region",
        "Europe",
        "terraform_outputs.region",
        "'Europe' is not an AWS region",
    ),
    Case(
        "prod",
        "terraform_outputs.ecr_repository_url",
        "444455556666.dkr.ecr.eu-west-1.amazonaws.com/predictor:latest",
        "terraform_outputs.ecr_repository_url",
        "is not an image repository",
    ),
    Case(
        "prod",
        "terraform_outputs.karpenter_node_role_name",
        "arn:aws:iam::444455556666:role/predictor-prod-karpenter-node",
        "terraform_outputs.karpenter_node_role_name",
        "is not an IAM role name",
    ),
    Case("prod", "image.tag", "LATEST", "image.tag", "the tag 'LATEST' is mutable"),
    Case("prod", "image.digest", "sha256:1234", "image.digest", "'sha256:1234' is not a sha256 digest"),
    Case(
        "prod",
        "exposure.kind",
        "loadbalancer",
        "exposure.kind",
        "'ingress'",
    ),
    Case(
        "prod",
        "resources.memory_limit",
        "256MB",
        "resources.memory_limit",
        "'256MB' is not a memory quantity",
    ),
    Case("prod", "node_pool.cpu_limit", "lots", "node_pool.cpu_limit", "'lots' is not a CPU quantity"),
    Case("prod", "node_pool.expire_after", "Never", "node_pool.expire_after", "'Never' is not a duration"),
    Case(
        "prod",
        "node_pool.ami_alias",
        "al2@latest",
        "node_pool.ami_alias",
        "al2023@latest or al2023@vYYYYMMDD",
    ),
    Case(
        "prod",
        "node_pool.instance_categories",
        ["c", "g"],
        "node_pool.instance_categories[1]",
        "'r', got 'g'",
    ),
    Case(
        "prod",
        "node_pool.capacity_types",
        ["reserved"],
        "node_pool.capacity_types[0]",
        "'spot', got 'reserved'",
    ),
    Case(
        "prod",
        "node_pool.consolidation_policy",
        "Always",
        "node_pool.consolidation_policy",
        "'WhenEmptyOrUnderutilized', got 'Always'",
    ),
    # The NetworkPolicy's sources and the API keys' secret come from Terraform outputs: checked, not trusted.
    Case(
        "prod",
        "terraform_outputs.alb_subnet_cidrs",
        ["10.0.48.1/20"],
        "terraform_outputs.alb_subnet_cidrs[0]",
        "has host bits set",
    ),
    Case(
        "prod", "terraform_outputs.alb_subnet_cidrs", [], "terraform_outputs.alb_subnet_cidrs", "at least 1"
    ),
    Case(
        "prod",
        "terraform_outputs.metrics_scraper_namespace",
        "Amazon_CloudWatch",
        "terraform_outputs.metrics_scraper_namespace",
        "not a Kubernetes namespace",
    ),
    Case(
        "prod",
        "terraform_outputs.api_keys_secret_name",
        "api keys",
        "terraform_outputs.api_keys_secret_name",
        "not a Secrets Manager secret name",
    ),
    # The service's own settings, judged by the service's settings loader: what it refuses at start-up
    # (a crash loop) is refused here, under the field that set it.
    Case("dev", "server.max_body_bytes", 512, "server.max_body_bytes", "PREDICTOR_MAX_BODY_BYTES='512'"),
    Case("prod", "server.max_batch_size", 20000, "server.max_batch_size", "Expected `int` <= 10000"),
    Case("prod", "server.log_requests", "yes", "server.log_requests", "Expected `bool`"),
    Case("prod", "server.model_path", "models/x.json", "server.model_path", "not an absolute path"),
]


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[f"{c.field}={c.value!r}" for c in BAD_CONFIGS])
def test_bad_configuration_names_the_field_and_writes_nothing(environments_copy, out_dir, case):
    set_field(environments_copy, case.env, case.field, case.value)
    before = snapshot(out_dir)
    with pytest.raises(SynthesisError) as raised:
        synthesize(out_dir, environments_dir=environments_copy)
    where = f"{case.env}.toml: {case.location}: "
    assert any(where in p and case.fragment in p for p in raised.value.problems), raised.value.problems
    assert snapshot(out_dir) == before
    assert [p.name for p in out_dir.parent.iterdir()] == ["dist", "environments"], "no staging left behind"


def test_every_problem_of_every_environment_is_reported_at_once(environments_copy, out_dir):
    set_field(environments_copy, "dev", "scale.min", "zero")
    set_field(environments_copy, "prod", "image.tag", "latest")
    set_field(environments_copy, "prod", "exposure.kind", None)
    with pytest.raises(SynthesisError) as raised:
        synthesize(out_dir, environments_dir=environments_copy)
    problems = "\n".join(raised.value.problems)
    assert "dev.toml: scale.min" in problems
    assert "prod.toml: image.tag" in problems
    assert "prod.toml: exposure.kind: missing" in problems


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, r"dev\.toml: no such environment \(known: prod\)"), ("scale = [", r"dev\.toml: Invalid value")],
)
def test_a_missing_or_unreadable_file_is_named(environments_copy, text, message):
    (environments_copy / "dev.toml").unlink()
    if text is not None:
        (environments_copy / "dev.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_environment("dev", directory=environments_copy)


def test_an_unknown_environment_is_named(environments_copy, out_dir):
    with pytest.raises(SynthesisError, match=r"environment staging: not rendered \(known: dev, prod\)"):
        synthesize(out_dir, environments=["staging"], environments_dir=environments_copy)


def test_ingress_exposure_needs_the_certificate(environments_copy):
    set_field(environments_copy, "prod", "exposure.kind", "ingress")
    assert load_environment("prod", directory=environments_copy).exposure.kind is ExposureKind.INGRESS
    set_field(environments_copy, "prod", "terraform_outputs.certificate_arn", None)
    with pytest.raises(
        ConfigError, match=r"certificate_arn: missing \(needed for exposure.kind = 'ingress'\)"
    ):
        load_environment("prod", directory=environments_copy)


def test_a_config_pins_the_project_version_unless_it_says_otherwise(environments_copy):
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert load_environment("prod", directory=environments_copy).image.tag == version
    set_field(environments_copy, "prod", "image.digest", DIGEST)
    image = load_environment("prod", directory=environments_copy).image
    assert str(image) == f"{image.repository}:{version}@{DIGEST}"


PROD_REPOSITORY = "444455556666.dkr.ecr.eu-west-1.amazonaws.com/predictor"
DEV_REPOSITORY = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/predictor"
IMAGE_OVERRIDES = [
    (f"{PROD_REPOSITORY}:latest", "IMAGE: the tag 'latest' is mutable"),
    (PROD_REPOSITORY, f"IMAGE: '{PROD_REPOSITORY}' has neither a tag nor a digest"),
    (f"{PROD_REPOSITORY}@sha256:xyz", "IMAGE: 'sha256:xyz' is not a sha256 digest"),
    (f"{DEV_REPOSITORY}@{DIGEST}", f"IMAGE: repository '{DEV_REPOSITORY}' is not environment prod's"),
]


@pytest.mark.parametrize(("image", "message"), IMAGE_OVERRIDES)
def test_a_bad_image_override_is_refused(out_dir, image, message):
    before = snapshot(out_dir)
    with pytest.raises(SynthesisError) as raised:
        synthesize(out_dir, environments=["prod"], image=image)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems
    assert snapshot(out_dir) == before


def test_the_cli_exits_2_names_the_field_and_writes_nothing(environments_copy, out_dir):
    set_field(environments_copy, "prod", "scale.min", 20)
    before = snapshot(out_dir)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "manifests_py",
            "--out",
            str(out_dir),
            "--environments-dir",
            str(environments_copy),
        ],
        cwd=REPO_ROOT,
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert re.search(
        r"^error: .*prod\.toml: scale\.min: 20 is greater than max \(12\)$",
        result.stderr,
        re.MULTILINE,
    )
    assert f"error: nothing written to {out_dir}/" in result.stderr
    assert result.stdout == ""
    assert snapshot(out_dir) == before


def test_a_bad_service_card_is_refused_naming_the_field(tmp_path):
    """The manifests read the card through the service's own reader, so its validation applies here too."""
    document = json.loads(SERVICE_CARD_PATH.read_text(encoding="utf-8"))
    document["port"] = 0
    card = tmp_path / "service.json"
    card.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ServiceCardError, match=r"\$\.port"):
        load_service_card(card)


def test_the_release_reads_its_cloudwatch_dimensions_from_the_environment():
    """The dimensions are the ARNs' resource parts (AWS/ApplicationELB), named like infra/'s outputs."""
    outputs = load_environment("prod").terraform_outputs
    prefix = f"arn:aws:elasticloadbalancing:{outputs.region}:{outputs.account_id}:"
    assert outputs.canary_target_group_arn == prefix + outputs.canary_target_group_arn_suffix
    assert outputs.canary_target_group_arn_suffix.startswith("targetgroup/predictor-production-canary/")
    listener_id = outputs.https_listener_arn.rsplit("/", 1)[1]
    assert outputs.https_listener_arn == f"{prefix}listener/{outputs.alb_arn_suffix}/{listener_id}"
    assert outputs.alb_arn_suffix.startswith("app/predictor-production/")
