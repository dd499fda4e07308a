"""`make policy` on this checkout: every gate runs, reads its input, passes, and leaves its reports.

This is the one run of each scanner on the real tree in the test session: the checkov, hadolint and
zizmor proofs about infra/, dist/, the Dockerfile and .github/ read its reports.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.policies.conftest import REPO_ROOT, PolicyRun, copy_root, run_policy
from tests.support import background

pytestmark = pytest.mark.slow

GATES = (
    "plan",
    "terraform-compliance",
    "checkov",
    "kubernetes-schema",
    "hadolint",
    "zizmor",
)


@background.session_fixture
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[PolicyRun, float]:
    reports = tmp_path_factory.mktemp("policy") / "reports"
    started = time.monotonic()
    run = run_policy(reports)
    return run, time.monotonic() - started


# Built-in checks that must have run and passed: the Dockerfile's base tag, HEALTHCHECK, USER and last USER
# not root; the pods' probes, limits, non-root, read-only root filesystem, no privilege escalation, ...
REQUIRED_PASSES = {"CKV_DOCKER_7", "CKV_DOCKER_2", "CKV_DOCKER_3", "CKV_DOCKER_8"} | {
    f"CKV_K8S_{n}" for n in (8, 9, 20, 22, 23, 28, 31, 37, 38, 40)
}
DIGEST = "sha256:" + "fedcba9876543210" * 4


def _suppressed(reports) -> dict[tuple[str, str], str]:
    """(rule, file) -> the inline reason, for every finding checkov's SARIF reports as skipped."""
    document = json.loads((reports / "checkov.sarif").read_text(encoding="utf-8"))
    return {
        (result["ruleId"], result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): (
            result["suppressions"][0].get("justification", "")
        )
        for sarif_run in document["runs"]
        for result in sarif_run.get("results", [])
        if result.get("suppressions")
    }


def test_the_repository_passes_every_gate(real_run):
    run, _seconds = real_run
    assert run.returncode == 0, run.output[-5000:]
    for gate in GATES:
        name, checked, _unit, failures, _seconds, result = run.summary_row(gate)
        assert (name, failures, result) == (gate, "0", "pass")
        assert int(checked) > 0, f"{gate} checked nothing"
    assert run.summary_row("total")[1] == "0"


def test_every_gate_read_enough_to_mean_something(real_run):
    run, _seconds = real_run
    checked = {gate: int(run.summary_row(gate)[1]) for gate in GATES}
    assert checked["plan"] > 100, "the plan of infra/ has well over a hundred resources"
    assert checked["terraform-compliance"] >= 40, "scenarios and outline rows of the root plan"
    assert checked["checkov"] > 500
    objects = [
        document
        for path in (REPO_ROOT / "dist").rglob("*.yaml")
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document
    ]
    assert checked["kubernetes-schema"] == len(objects), "every object in dist/"
    assert checked["zizmor"] == len(list((REPO_ROOT / ".github" / "workflows").glob("*.yml"))) + 1
    frameworks = dict(re.findall(r"\b(terraform|kubernetes|dockerfile|github_actions) (\d+)\b", run.output))
    assert int(frameworks["terraform"]) > 100, "checkov's Terraform checks read infra/"
    assert all(int(frameworks[name]) > 0 for name in ("kubernetes", "dockerfile", "github_actions"))
    # Every trust policy is in the root plan: no module is planned on its own any more.
    assert "trust policies unknown" not in run.output
    assert "also judged a plan of" not in run.output


def test_reports_are_junit_and_sarif_without_a_failure(real_run):
    run, _seconds = real_run
    junit = ET.parse(run.reports / "junit.xml")  # noqa: S314 -- the report the run just wrote
    suites = {suite.get("name"): suite for suite in junit.getroot().iter("testsuite")}
    assert set(suites) == set(GATES)
    for suite in suites.values():
        assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
        assert int(suite.get("tests", "0")) > 0
    sarif_files = sorted(run.reports.glob("*.sarif"))
    assert {path.stem for path in sarif_files} == set(GATES)
    for path in sarif_files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["version"] == "2.1.0"
        for result in (r for sarif_run in document["runs"] for r in sarif_run.get("results", [])):
            assert result.get("suppressions"), f"{path.name}: an unsuppressed finding {result.get('ruleId')}"
    assert not list(run.reports.rglob("*/*.sarif")), "scratch SARIF must not sit under the reports folder"


def test_karpenter_iam_and_interruption_queue_are_judged(real_run):
    run, _seconds = real_run
    plan = json.loads((run.reports / "plan.json").read_text(encoding="utf-8"))
    addresses = {change["address"] for change in plan["resource_changes"]}
    assert "module.karpenter.aws_sqs_queue.interruption" in addresses
    assert any(
        a.startswith("module.karpenter.module.controller_role.aws_iam_role_policy.") for a in addresses
    )
    decisions = json.loads((run.reports / "plan-decisions.json").read_text(encoding="utf-8"))
    assert (
        "module.karpenter.aws_sqs_queue.interruption.kms_master_key_id <- aws_kms_key"
        in (decisions["unknown_keys_from_kms"])
    )
    assert set(decisions) == {"unknown_keys_from_kms"}, "no trust policy is left to a recorded decision"
    passed = run.passed("terraform-compliance")
    # The in-cluster roles' trusts (app, CNI, CloudWatch agent, controllers) are judged in the root plan.
    assert {
        "Pod Identity trust names the EKS Pod Identity service alone",
        "Pod Identity trust allows only sts:AssumeRole and sts:TagSession",
        "Pod Identity trust is held to the account by aws:SourceAccount",
    } <= passed
    assert "Allow statements grant no wildcard action [aws_iam_role_policy, policy]" in passed
    assert "Allow statements grant no wildcard action [aws_sqs_queue_policy, policy]" in passed
    assert "The plan has SQS queues" in passed


def test_the_plan_judged_is_made_by_this_run(real_run):
    run, seconds = real_run
    plan = json.loads((run.reports / "plan.json").read_text(encoding="utf-8"))
    assert plan["resource_changes"]
    assert "planned infra against the emulator" in run.output
    # Recorded for the report (not a pass condition: shared CI machines vary).
    print(f"make policy took {seconds:.0f}s")  # noqa: T201


def test_the_required_built_in_checks_ran_and_passed(real_run):
    run, _seconds = real_run
    passed = {name.split(" ")[0] for name in run.passed("checkov")}
    assert passed >= REQUIRED_PASSES, REQUIRED_PASSES - passed


def test_every_skip_is_reviewed_inline_and_dist_skips_only_the_tag_pin(real_run):
    run, _seconds = real_run
    skips = _suppressed(run.reports)
    infra = {key: reason for key, reason in skips.items() if key[1].startswith("infra/")}
    assert infra, "infra/ has reviewed skips"
    assert all(len(reason) > 15 for reason in infra.values()), f"skips without a reason: {infra}"
    dist = {key: reason for key, reason in skips.items() if key[1].startswith("dist/")}
    deployments = {
        str(path.relative_to(REPO_ROOT))
        for path in (REPO_ROOT / "dist").glob("*/*.yaml")
        if any(doc and doc.get("kind") == "Deployment" for doc in yaml.safe_load_all(path.read_text("utf-8")))
    }
    assert {
        "dist/prod/40-deployment-predictor.yaml",
        "dist/prod/40-deployment-predictor-canary.yaml",
    } <= deployments
    assert set(dist) == {("CKV_K8S_43", deployment) for deployment in deployments}
    assert all("digest" in reason for reason in dist.values())


def test_a_digest_deploy_needs_no_skip(tmp_path):
    """The tag-pin skip exists only for the committed manifests: a deploy synthesis pins a digest."""
    root = copy_root(tmp_path / "root")
    (deployment,) = [
        document
        for document in yaml.safe_load_all((root / "dist/prod/40-deployment-predictor.yaml").read_text())
        if document and document["kind"] == "Deployment"
    ]
    repository = deployment["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[0]
    synth = subprocess.run(
        [sys.executable, "-m", "manifests_py", "--quiet", "--out", str(root / "dist"),
         "--environment", "prod", "--image", f"{repository}@{DIGEST}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert synth.returncode == 0, synth.stderr

    run = run_policy(tmp_path / "reports", root=root, gates="checkov")

    assert run.returncode == 0, run.output[-3000:]
    assert not [key for key in _suppressed(run.reports) if key[1].startswith("dist/prod/")]
    assert "CKV_K8S_43" in {name.split(" ")[0] for name in run.passed("checkov")}
