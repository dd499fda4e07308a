"""checkov's Kubernetes checks pass on dist/; the only skip is explained inline and vanishes with a digest.

checkov pins old libraries, so it runs isolated through `uv tool run`, never in the project environment.
One run covers the committed dist/, a deploy-time synthesis with a digest, and a deliberately insecure
copy that must fail (so a checker that silently scanned nothing cannot pass).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.manifests.conftest import DIST, REPO_ROOT, load_folder
from tests.support.tool_pins import UV, requirement

pytestmark = pytest.mark.slow

CHECKOV = requirement("checkov", "CHECKOV_VERSION")
DIGEST = "sha256:" + "fedcba9876543210" * 4


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not UV.exists():
        pytest.fail(f"{UV} is missing: run `make bootstrap`", pytrace=False)
    root = tmp_path_factory.mktemp("checkov")
    shutil.copytree(DIST, root / "committed")

    deploy = root / "deploy"
    shutil.copytree(DIST, deploy)
    (deployment,) = [o for o in load_folder(DIST / "prod") if o["kind"] == "Deployment"]
    repository = deployment["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[0]
    synth = subprocess.run(
        [sys.executable, "-m", "manifests_py", "--quiet", "--out", str(deploy), "--environment", "prod",
         "--image", f"{repository}@{DIGEST}"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert synth.returncode == 0, synth.stderr

    insecure = root / "insecure"
    insecure.mkdir()
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] |= {
        "privileged": True,
        "allowPrivilegeEscalation": True,
        "readOnlyRootFilesystem": False,
    }
    (insecure / "deployment.yaml").write_text(yaml.safe_dump(deployment))

    result = subprocess.run(
        [str(UV), "tool", "run", "--from", CHECKOV, "checkov", "--directory", str(root),
         "--framework", "kubernetes", "--skip-download", "--output", "json"],
        cwd=root, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.stdout.strip(), (
        f"checkov printed no report (exit {result.returncode}): {result.stderr[-2000:]}"
    )
    document = json.loads(result.stdout)
    assert isinstance(document, dict), "one framework, one report"
    return document


def checks(report, outcome, under):
    return [c for c in report["results"][outcome] if c["file_path"].startswith(f"/{under}/")]


def test_checkov_read_every_manifest(report):
    assert report["summary"]["parsing_errors"] == 0
    scanned = {
        c["file_path"] for outcome in ("passed_checks", "failed_checks") for c in report["results"][outcome]
    }
    for folder in ("dev", "prod"):
        assert f"/committed/{folder}/40-deployment-predictor.yaml" in scanned


def test_committed_dist_passes_with_only_the_explained_digest_skip(report):
    assert checks(report, "failed_checks", "committed") == []
    skipped = checks(report, "skipped_checks", "committed")
    assert {(c["check_id"], c["file_path"]) for c in skipped} == {
        ("CKV_K8S_43", "/committed/dev/40-deployment-predictor.yaml"),
        ("CKV_K8S_43", "/committed/prod/40-deployment-predictor.yaml"),
    }
    for check in skipped:
        assert "digest" in check["check_result"]["suppress_comment"]
    passed = {c["check_id"] for c in checks(report, "passed_checks", "committed")}
    expected = {
        "CKV_K8S_8",
        "CKV_K8S_9",
        "CKV_K8S_20",
        "CKV_K8S_22",
        "CKV_K8S_23",
        "CKV_K8S_28",
        "CKV_K8S_31",
    }
    expected |= {"CKV_K8S_37", "CKV_K8S_38", "CKV_K8S_40", "CKV2_K8S_6"}
    assert expected <= passed, expected - passed


def test_a_digest_deploy_needs_no_skip(report):
    assert checks(report, "failed_checks", "deploy/prod") == []
    assert checks(report, "skipped_checks", "deploy/prod") == []
    digest = [c for c in checks(report, "passed_checks", "deploy/prod") if c["check_id"] == "CKV_K8S_43"]
    assert digest, "the image-digest check ran and passed"


def test_an_insecure_pod_fails(report):
    failed = {c["check_id"] for c in checks(report, "failed_checks", "insecure")}
    assert {"CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_22"} <= failed
