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
from manifests_py.synth import Sources, SynthesisError, synthesize
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
    message: str


OTHER_ACCOUNT_TARGET_GROUP = (
    "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/predictor-prod/7b6a5f4e3d2c1b0a"
)
BAD_CONFIGS = [
    # Values the config's own checks let through but the service refuses at start-up (a crash loop).
    Case(
        "dev",
        "server.max_body_bytes",
        512,
        "dev.toml: server: the service refuses PREDICTOR_MAX_BODY_BYTES='512': Expected `int` >= 1024",
    ),
    Case(
        "prod",
        "server.max_batch_size",
        20000,
        "prod.toml: server: the service refuses PREDICTOR_MAX_BATCH_SIZE='20000': Expected `int` <= 10000",
    ),
    Case("dev", "scale.max", None, "dev.toml: scale.max: missing"),
    Case("prod", "scale.min", "3", "prod.toml: scale.min: expected an integer, got string '3'"),
    Case("dev", "scale.min", 5, "dev.toml: scale.min: 5 is greater than scale.max (3)"),
    Case("dev", "scale.mni", 1, "dev.toml: scale.mni: unknown field"),
    Case(
        "dev",
        "scale.cpu_target_percent",
        120,
        "dev.toml: scale.cpu_target_percent: 120 is above the maximum 100",
    ),
    Case("prod", "image.tag", "latest", "prod.toml: image.tag: the tag 'latest' is mutable"),
    Case("prod", "image.tag", "LATEST", "prod.toml: image.tag: the tag 'LATEST' is mutable"),
    Case(
        "prod", "image.digest", "sha256:1234", "prod.toml: image.digest: 'sha256:1234' is not a sha256 digest"
    ),
    Case(
        "prod",
        "terraform_outputs.ecr_repository_url",
        "444455556666.dkr.ecr.eu-west-1.amazonaws.com/predictor:latest",
        "prod.toml: terraform_outputs.ecr_repository_url: '444455556666.dkr.ecr.eu-west-1.amazonaws.com/",
    ),
    Case(
        "prod",
        "terraform_outputs.target_group_arn",
        "arn:aws:elasticloadbalancing:eu-west-1:444455556666:loadbalancer/app/predictor/0123456789abcdef",
        "/0123456789abcdef' is not a target group ARN in eu-west-1, account 444455556666",
    ),
    Case(
        "prod",
        "terraform_outputs.target_group_arn",
        OTHER_ACCOUNT_TARGET_GROUP,
        f"terraform_outputs.target_group_arn: '{OTHER_ACCOUNT_TARGET_GROUP}' is not a target group ARN",
    ),
    Case(
        "prod",
        "terraform_outputs.target_group_arn",
        None,
        "prod.toml: terraform_outputs.target_group_arn: missing",
    ),
    Case(
        "dev",
        "terraform_outputs.certificate_arn",
        "arn:aws:acm:eu-west-1:111122223333:certificate/x",
        "certificate_arn",
    ),
    Case(
        "prod", "terraform_outputs.app_role_arn", "arn:aws:iam::444455556666:user/predictor", "app_role_arn: "
    ),
    Case(
        "prod",
        "terraform_outputs.account_id",
        "4444",
        "prod.toml: terraform_outputs.account_id: '4444' is not",
    ),
    Case(
        "prod", "terraform_outputs.region", "Europe", "prod.toml: terraform_outputs.region: 'Europe' is not"
    ),
    Case("prod", "exposure.kind", "loadbalancer", "prod.toml: exposure.kind: 'loadbalancer' is not one of"),
    Case(
        "prod",
        "resources.cpu_request",
        "2",
        "prod.toml: resources.cpu_request: 2 exceeds resources.cpu_limit (1)",
    ),
    Case(
        "prod",
        "resources.memory_limit",
        "256MB",
        "prod.toml: resources.memory_limit: '256MB' is not a memory",
    ),
    Case(
        "prod",
        "server.log_requests",
        "yes",
        "prod.toml: server.log_requests: expected true or false, got string",
    ),
    Case("prod", "server.host", "any", "prod.toml: server.host: unknown field"),
    Case(
        "prod",
        "secrets.PREDICTOR_PORT",
        {"secret": "x", "key": "y"},
        "secrets.PREDICTOR_PORT: PREDICTOR_* variables",
    ),
    Case(
        "prod",
        "node_pool.zones",
        ["eu-west-1a", "us-east-1b"],
        "prod.toml: node_pool.zones: 'us-east-1b': not a zone of eu-west-1 such as eu-west-1a",
    ),
    Case("prod", "node_pool.zones", [], "prod.toml: node_pool.zones: expected a non-empty array of strings"),
    Case(
        "prod",
        "node_pool.instance_categories",
        ["c", "g"],
        "prod.toml: node_pool.instance_categories: 'g': not one of c, m, r",
    ),
    Case(
        "prod",
        "node_pool.capacity_types",
        ["reserved"],
        "prod.toml: node_pool.capacity_types: 'reserved': not one of on-demand, spot",
    ),
    Case(
        "prod",
        "node_pool.expire_after",
        "Never",
        "prod.toml: node_pool.expire_after: 'Never' is not a duration",
    ),
    Case(
        "prod", "node_pool.cpu_limit", "lots", "prod.toml: node_pool.cpu_limit: 'lots' is not a CPU quantity"
    ),
    Case(
        "prod",
        "node_pool.ami_alias",
        "al2@latest",
        "prod.toml: node_pool.ami_alias: 'al2@latest' is not al2023@latest or al2023@vYYYYMMDD",
    ),
    Case(
        "prod",
        "node_pool.consolidation_policy",
        "Always",
        "node_pool.consolidation_policy: 'Always' is not one of WhenEmpty, WhenEmptyOrUnderutilized",
    ),
    Case(
        "prod",
        "node_pool.disruption_budgets",
        [{"nodes": "0", "schedule": "0 7 * * *"}],
        "prod.toml: node_pool.disruption_budgets[0].schedule: schedule and duration go together",
    ),
    Case(
        "prod",
        "node_pool.disruption_budgets",
        [],
        "prod.toml: node_pool.disruption_budgets: empty: with no budget Karpenter may disrupt every node",
    ),
    Case(
        "prod",
        "node_pool.termination_grace_period",
        "30s",
        "prod.toml: node_pool: termination_grace_period: 30s must exceed the pods' terminationGracePeriod",
    ),
    Case("dev", "node_pool.zonez", ["eu-west-1a"], "dev.toml: node_pool.zonez: unknown field"),
    Case(
        "prod",
        "terraform_outputs.cluster_name",
        None,
        "prod.toml: terraform_outputs.cluster_name: missing (needed for [node_pool])",
    ),
    Case(
        "prod",
        "terraform_outputs.karpenter_node_role_name",
        "arn:aws:iam::444455556666:role/predictor-prod-karpenter-node",
        "prod.toml: terraform_outputs.karpenter_node_role_name: 'arn:aws:iam::444455556666:role/",
    ),
]


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[f"{c.field}={c.value!r}" for c in BAD_CONFIGS])
def test_bad_configuration_names_the_field_and_writes_nothing(environments_copy, out_dir, case):
    set_field(environments_copy, case.env, case.field, case.value)
    before = snapshot(out_dir)
    with pytest.raises(SynthesisError) as raised:
        synthesize(out_dir, sources=Sources(environments_dir=environments_copy))
    assert any(case.message in problem for problem in raised.value.problems), raised.value.problems
    assert snapshot(out_dir) == before
    assert [p.name for p in out_dir.parent.iterdir()] == ["dist", "environments"], "no staging left behind"


def test_every_problem_of_every_environment_is_reported_at_once(environments_copy, out_dir):
    set_field(environments_copy, "dev", "scale.min", "zero")
    set_field(environments_copy, "prod", "image.tag", "latest")
    set_field(environments_copy, "prod", "exposure.kind", None)
    with pytest.raises(SynthesisError) as raised:
        synthesize(out_dir, sources=Sources(environments_dir=environments_copy))
    problems = "\n".join(raised.value.problems)
    assert "dev.toml: scale.min" in problems
    assert "prod.toml: image.tag" in problems
    assert "prod.toml: exposure.kind: missing" in problems


def test_an_unknown_environment_is_named(environments_copy, out_dir):
    with pytest.raises(SynthesisError, match=r"environment staging: not rendered \(known: dev, prod\)"):
        synthesize(out_dir, environments=["staging"], sources=Sources(environments_dir=environments_copy))


def test_ingress_exposure_needs_the_certificate(environments_copy):
    set_field(environments_copy, "prod", "exposure.kind", "ingress")
    assert load_environment("prod", directory=environments_copy).exposure is ExposureKind.INGRESS
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
        r"^error: .*prod\.toml: scale\.min: 20 is greater than scale\.max \(12\)$",
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
