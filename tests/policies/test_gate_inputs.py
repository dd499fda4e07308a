"""No gate passes on input it could not read: a parse error, nothing to scan, a missing or foreign plan,
a missing CRD schema, a custom check that crashed or never loaded, a stale generated feature. Each is a
failure whose message says which input and why.
"""

from __future__ import annotations

import json
import re

import pytest

from api.service_card import SERVICE_CARD_PATH
from policies import features
from policies.gates import checkov, terraform_compliance
from policies.workspace import Context, Root, Tools
from tests.policies.conftest import REPO_ROOT, copy_root, run_plan_compliance, run_policy

SOURCE_GATES = "checkov,kubernetes-schema,hadolint,zizmor"


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    """A copy of the repository with a manifest, the Dockerfile and a workflow that do not parse."""
    work = tmp_path_factory.mktemp("broken")
    root = copy_root(work / "root")
    manifest = root / "dist" / "prod" / "40-deployment-predictor.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "  broken: [unclosed\n", encoding="utf-8")
    (root / "Dockerfile").write_text("FROM\n  RUNN x {{\n", encoding="utf-8")
    (root / ".github" / "workflows" / "ci.yml").write_text("on: [push\njobs: {", encoding="utf-8")
    return run_policy(work / "reports", root=root, gates=SOURCE_GATES)


@pytest.fixture(scope="module")
def empty_run(tmp_path_factory):
    """A tree with the right folders and nothing in them."""
    work = tmp_path_factory.mktemp("empty")
    root = work / "root"
    for folder in ("infra", "dist", ".github/workflows", "api"):
        (root / folder).mkdir(parents=True)
    (root / "api" / "service.json").write_text(
        SERVICE_CARD_PATH.read_text(encoding="utf-8"), encoding="utf-8"
    )
    return run_policy(work / "reports", root=root, gates=SOURCE_GATES)


@pytest.mark.slow
def test_a_manifest_that_does_not_parse_fails_the_schema_and_checkov_gates(broken_run):
    assert broken_run.returncode != 0
    (schema_error,) = broken_run.errors("kubernetes-schema")
    assert "dist/prod/40-deployment-predictor.yaml is not readable YAML" in schema_error
    assert any(
        "could not parse" in error and "40-deployment-predictor.yaml" in error
        for error in broken_run.errors("checkov")
    )


@pytest.mark.slow
def test_a_dockerfile_that_does_not_parse_fails_hadolint(broken_run):
    (error,) = broken_run.errors("hadolint")
    assert "hadolint could not parse the Dockerfile" in error


@pytest.mark.slow
def test_a_workflow_that_does_not_parse_fails_zizmor(broken_run):
    (error,) = broken_run.errors("zizmor")
    assert "zizmor failed" in error
    assert "ci.yml" in error


@pytest.mark.slow
def test_nothing_to_scan_fails_every_gate(empty_run):
    assert empty_run.returncode != 0
    errors = " ".join(empty_run.errors("checkov"))
    for framework in ("terraform", "kubernetes", "dockerfile", "github_actions"):
        assert f"checkov's {framework} checks evaluated nothing" in errors
    assert empty_run.errors("kubernetes-schema") == ["no manifest in dist/"]
    assert empty_run.errors("hadolint") == ["Dockerfile does not exist"]
    assert empty_run.errors("zizmor") == ["no workflow in .github/workflows"]
    for gate in SOURCE_GATES.split(","):
        assert empty_run.summary_row(gate)[-1] == "FAIL"


@pytest.mark.slow
def test_a_missing_plan_fails_the_plan_gate(tmp_path):
    run = run_policy(tmp_path / "reports", gates="terraform-compliance", plan=tmp_path / "no-such-plan.json")
    assert run.returncode != 0
    (error,) = run.errors("plan")
    assert f"plan {tmp_path / 'no-such-plan.json'} does not exist" in error
    assert run.errors("terraform-compliance") == ["no plan to judge: the plan gate did not produce one"]


@pytest.mark.slow
def test_a_file_that_is_not_a_plan_fails_ci_plan_compliance(tmp_path):
    not_a_plan = tmp_path / "state.json"
    not_a_plan.write_text(json.dumps({"resources": []}), encoding="utf-8")
    run = run_plan_compliance(not_a_plan, tmp_path / "reports")
    assert run.returncode != 0
    (error,) = run.errors("plan")
    assert "is not a plan's JSON" in error


def test_a_plan_without_resource_changes_fails_the_plan_gate(tmp_path):
    nothing = tmp_path / "plan.json"
    nothing.write_text(json.dumps({"format_version": "1.2", "planned_values": {}}), encoding="utf-8")
    run = run_policy(tmp_path / "reports", gates="plan", plan=nothing)
    assert run.returncode != 0
    assert run.errors("plan") == ["the plan has no resource changes to judge"]


def test_ci_plan_compliance_without_a_plan_is_a_usage_error(tmp_path):
    run = run_plan_compliance(None, tmp_path / "reports")
    assert run.returncode == 2
    assert "set PLAN_JSON" in run.output


@pytest.mark.slow
def test_infra_that_does_not_plan_fails_the_plan_gate(tmp_path):
    root = copy_root(tmp_path / "root")
    (root / "infra" / "broken.tf").write_text('resource "aws_sns_topic" "x" {\n', encoding="utf-8")
    run = run_policy(tmp_path / "reports", root=root, gates="plan")
    assert run.returncode != 0
    (error,) = run.errors("plan")
    assert "terraform plan of infra failed" in error


@pytest.mark.slow
def test_a_missing_crd_schema_fails_the_schema_gate(tmp_path):
    root = copy_root(tmp_path / "root")
    (root / "manifests_py" / "crd_schemas" / "elbv2-targetgroupbinding-crd.yaml").unlink()
    run = run_policy(tmp_path / "reports", root=root, gates="kubernetes-schema")
    assert run.returncode != 0
    errors = run.errors("kubernetes-schema")
    assert errors
    assert all("elbv2-targetgroupbinding-crd.yaml not found" in error for error in errors)


def _context(tmp_path) -> Context:
    uv = REPO_ROOT / ".tools" / "bin" / "uv"
    if not uv.is_file():
        pytest.fail(f"{uv} is missing: run `make bootstrap`", pytrace=False)
    version = re.search(r"^CHECKOV_VERSION := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert version, "the Makefile pins CHECKOV_VERSION"
    reports = tmp_path / "reports"
    reports.mkdir()
    return Context(root=Root(REPO_ROOT), reports=reports, tools=Tools(uv=uv, pins={"checkov": version[1]}))


_CRASHING_CHECK = """
from checkov.common.models.enums import CheckCategories
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check


class Crashes(BaseK8Check):
    def __init__(self):
        super().__init__(name="crashes", id="CKV_PRED_TEST_1", categories=[CheckCategories.KUBERNETES],
                         supported_entities=["Namespace"])

    def scan_spec_conf(self, conf):
        raise RuntimeError("a bug in a custom check")


check = Crashes()
"""


@pytest.mark.slow
def test_a_custom_check_that_crashes_fails_the_gate_by_name(tmp_path, monkeypatch):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("", encoding="utf-8")
    (checks / "crashes.py").write_text(_CRASHING_CHECK, encoding="utf-8")
    monkeypatch.setattr(checkov, "CHECKOV_CHECKS_DIR", checks)
    result = checkov.run(_context(tmp_path))
    assert not result.passed
    assert any("custom check CKV_PRED_TEST_1 crashed on" in error for error in result.errors), result.errors


_BROKEN_YAML_CHECK = """
metadata: {id: CKV_PRED_TEST_2, name: a typo in an operator, category: KUBERNETES}
definition: {cond_type: attribute, resource_types: [Role], attribute: kind, operator: equalz, value: Role}
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file", "text", "name"),
    [
        ("pred_typo.py", "def broken(:\n", "pred_typo"),
        ("pred_typo.yaml", _BROKEN_YAML_CHECK, "CKV_PRED_TEST_2"),
    ],
)
def test_a_custom_check_that_does_not_load_fails_the_gate_by_name(tmp_path, monkeypatch, file, text, name):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("", encoding="utf-8")
    (checks / file).write_text(text, encoding="utf-8")
    monkeypatch.setattr(checkov, "CHECKOV_CHECKS_DIR", checks)
    result = checkov.run(_context(tmp_path))
    assert not result.passed
    assert any(f"custom check {name} could not be loaded" in error for error in result.errors), result.errors


def test_a_checks_folder_checkov_would_silently_ignore_fails_the_gate(tmp_path, monkeypatch):
    checks = tmp_path / "checks"
    checks.mkdir()  # no __init__.py: checkov loads nothing from it, and says so only at INFO level
    monkeypatch.setattr(checkov, "CHECKOV_CHECKS_DIR", checks)
    result = checkov.run(_context(tmp_path))
    assert not result.passed
    assert any("__init__.py is missing" in error for error in result.errors)


def test_the_committed_generated_features_match_the_service_card():
    assert not features.stale(SERVICE_CARD_PATH)


def test_a_stale_generated_feature_fails_the_terraform_compliance_gate(tmp_path):
    card = json.loads(SERVICE_CARD_PATH.read_text(encoding="utf-8"))
    card["paths"]["readiness"] = "/readyz"
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "service.json").write_text(json.dumps(card), encoding="utf-8")
    context = _context(tmp_path)
    context.root = Root(tmp_path)
    result = terraform_compliance.run(context)
    stale = "policies/terraform/load_balancer.feature is stale against the service card"
    assert f"{stale}: run `make policy-features`" in result.errors
