"""The deploy script against stand-in aws, docker, make, kubectl and curl that record every call.

Release synthesizes for real (manifests_py, into the script's own temporary directory), so these tests
also prove that what gets applied carries the pushed digest, and that the repository's dist/ is untouched.
"""

from __future__ import annotations

import hashlib
import json
import tomllib

import pytest
import yaml

from tests.workflows.conftest import COMMIT, REPO_ROOT, Sandbox, index_of
from tests.workflows.stand_in_tools import DIGEST

pytestmark = pytest.mark.slow

PROD = tomllib.loads((REPO_ROOT / "manifests_py/environments/prod.toml").read_text(encoding="utf-8"))
REPOSITORY_URL = PROD["terraform_outputs"]["ecr_repository_url"]
REGION = PROD["terraform_outputs"]["region"]
CARD = json.loads((REPO_ROOT / "api/service.json").read_text(encoding="utf-8"))


def _inputs(**overrides: str) -> dict[str, str]:
    inputs = {
        "DEPLOY_ENVIRONMENT": "prod",
        "IMAGE_TAG": COMMIT,
        "EKS_CLUSTER_NAME": PROD["terraform_outputs"]["cluster_name"],
        "SMOKE_BASE_URL": "https://predictor.example.com",
        "ROLLOUT_TIMEOUT_SECONDS": "120",
        "AWS_REGION": REGION,
    }
    inputs.update(overrides)
    return inputs


def _dist_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "dist").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _applied_objects(sandbox: Sandbox) -> list[dict]:
    [apply] = [call for call in sandbox.calls("kubectl") if call["argv"][0] == "apply"]
    objects = []
    for text in apply["applied"].values():
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def test_a_successful_deploy_builds_scans_applies_the_digest_waits_and_smoke_tests(sandbox):
    sandbox.scenario(revision="3")
    sandbox.env.update(_inputs())
    before = _dist_fingerprint()

    result = sandbox.run("all")

    assert result.returncode == 0, result.stderr
    commands = sandbox.commands()
    # publish: nothing with that tag yet, so log in, build, push
    build = index_of(commands, "make --no-print-directory image")
    push = index_of(commands, f"docker push {REPOSITORY_URL}:{COMMIT}")
    assert index_of(commands, "docker login --username AWS --password-stdin") < build < push
    # the ECR password only ever travels on stdin
    assert not any("stand-in-ecr-password" in command for command in commands)
    # scan gate, then the cluster
    wait = index_of(commands, f"aws ecr wait image-scan-complete --region {REGION}")
    apply = index_of(commands, "kubectl apply")
    status = index_of(commands, "kubectl rollout status deployment/predictor")
    smoke = index_of(commands, "curl")
    assert push < wait < index_of(commands, "describe-image-scan-findings") < apply < status < smoke
    assert "--timeout=120s" in commands[status]
    assert not any("rollout undo" in command for command in commands)
    # what was applied: the synthesized prod objects, pinned to the pushed digest, namespaced only
    objects = _applied_objects(sandbox)
    deployments = [obj for obj in objects if obj["kind"] == "Deployment"]
    assert CARD["name"] in {deployment["metadata"]["name"] for deployment in deployments}
    for deployment in deployments:  # the stable one, and the canary at rest (a first release goes out whole)
        assert deployment["metadata"]["namespace"] == CARD["namespace"]
        images = {c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]}
        assert images == {f"{REPOSITORY_URL}@{DIGEST}"}
    assert "Namespace" not in {obj["kind"] for obj in objects}
    assert "Namespace/predictor" in result.stdout  # said out loud, not silently dropped
    assert "prod-cluster/" in result.stdout  # the node capacity objects are the platform's too
    # every kubectl call used the kubeconfig the script wrote, never the user's
    kubeconfigs = {call["kubeconfig"] for call in sandbox.calls("kubectl")}
    assert len(kubeconfigs) == 1
    assert kubeconfigs.pop().endswith("/kubeconfig")
    # smoke test over HTTPS only, against the service card's paths
    urls = [call["argv"][-1] for call in sandbox.calls("curl")]
    assert urls == [
        f"https://predictor.example.com{CARD['paths']['liveness']}",
        f"https://predictor.example.com{CARD['paths']['predict']}",
    ]
    assert all("=https" in call["argv"] for call in sandbox.calls("curl"))
    assert _dist_fingerprint() == before


def test_a_failed_rollout_is_undone_to_the_serving_revision_and_fails(sandbox):
    sandbox.scenario(image_exists=True, revision="7", rollout_status=[1, 0])
    sandbox.env.update(_inputs())

    result = sandbox.run("release")

    assert result.returncode == 1
    commands = sandbox.commands()
    failed = index_of(commands, "kubectl rollout status deployment/predictor")
    undo = index_of(commands, "kubectl rollout undo deployment/predictor")
    assert failed < undo
    assert "--to-revision=7" in commands[undo]
    # the rollback is waited for too
    assert [c for c in commands[undo:] if "rollout status" in c], "the rollback was not waited for"
    assert not sandbox.calls("curl"), "a failed rollout must not be smoke-tested"
    assert "rolled back to revision 7" in result.stderr
    assert "failed or did not finish within 120 s" in result.stderr


def test_a_rollback_that_fails_too_says_so(sandbox):
    sandbox.scenario(image_exists=True, revision="7", rollout_status=[1, 1])
    sandbox.env.update(_inputs())

    result = sandbox.run("release")

    assert result.returncode == 1
    assert "ROLLBACK FAILED" in result.stderr


def test_a_failed_first_deploy_has_nothing_to_roll_back_to(sandbox):
    sandbox.scenario(image_exists=True, revision="", rollout_status=[1])
    sandbox.env.update(_inputs())

    result = sandbox.run("release")

    assert result.returncode == 1
    assert not any("rollout undo" in command for command in sandbox.commands())
    assert "first deploy" in result.stderr


def test_a_failed_smoke_test_rolls_back(sandbox):
    sandbox.scenario(
        image_exists=True, revision="4", bodies={"/health": '{"status":"ok"}', "/predict": '{"score":0.5}'}
    )
    sandbox.env.update(_inputs())

    result = sandbox.run("release")

    assert result.returncode == 1
    assert "--to-revision=4" in sandbox.commands()[index_of(sandbox.commands(), "rollout undo")]
    assert "the contract is {'score': 0.75}" in result.stderr


def test_a_failed_apply_returns_to_the_serving_revision(sandbox):
    sandbox.scenario(image_exists=True, revision="5", apply_fails=True)
    sandbox.env.update(_inputs())

    result = sandbox.run("release")

    assert result.returncode == 1
    assert "Forbidden" in result.stderr
    assert "--to-revision=5" in sandbox.commands()[index_of(sandbox.commands(), "rollout undo")]


@pytest.mark.parametrize("command", ["all", "scan", "release"])
def test_critical_or_high_findings_stop_the_deploy_before_anything_is_applied(sandbox, command):
    sandbox.scenario(image_exists=True, scan_counts={"CRITICAL": 1, "HIGH": 2, "MEDIUM": 4})
    sandbox.env.update(_inputs())

    result = sandbox.run(command)

    assert result.returncode == 1
    assert not sandbox.calls("kubectl"), "nothing may reach the cluster after a failed scan gate"
    assert not any("update-kubeconfig" in command for command in sandbox.commands())
    assert "1 CRITICAL, 2 HIGH finding(s)" in result.stderr
    assert "CVE-2099-0000" in result.stderr
    assert "nothing deployed" in result.stderr


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ({"scan_wait_fails": True}, "did not complete"),
        ({"scan_status": "FAILED"}, "is FAILED, not COMPLETE"),
    ],
)
def test_an_incomplete_scan_blocks_too(sandbox, scenario, message):
    sandbox.scenario(image_exists=True, **scenario)
    sandbox.env.update(_inputs())

    result = sandbox.run("all")

    assert result.returncode == 1
    assert message in result.stderr
    assert not sandbox.calls("kubectl")


def test_an_image_already_pushed_for_the_commit_is_not_rebuilt(sandbox):
    sandbox.scenario(image_exists=True)
    sandbox.env.update(_inputs())

    result = sandbox.run("publish")

    assert result.returncode == 0, result.stderr
    assert not sandbox.calls("make")
    assert not sandbox.calls("docker")
    assert "not rebuilt" in result.stdout


def test_release_refuses_a_commit_that_was_never_pushed(sandbox):
    sandbox.scenario()
    sandbox.env.update(_inputs())

    result = sandbox.run("release")

    assert result.returncode == 1
    assert "run the publish phase first" in result.stderr
    assert not sandbox.calls("kubectl")


def test_missing_inputs_are_all_named_and_nothing_runs(sandbox):
    sandbox.scenario()

    result = sandbox.run("all")

    assert result.returncode == 2
    for name in ("DEPLOY_ENVIRONMENT", "IMAGE_TAG", "EKS_CLUSTER_NAME", "SMOKE_BASE_URL"):
        assert name in result.stderr
    assert "nothing was run" in result.stderr
    assert sandbox.calls() == []


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"IMAGE_TAG": "latest"}, "is not a full 40-character commit SHA"),
        ({"IMAGE_TAG": COMMIT[:12]}, "is not a full 40-character commit SHA"),
        ({"SMOKE_BASE_URL": "http://predictor.example.com"}, "is not an https:// URL"),
        ({"DEPLOY_ENVIRONMENT": "staging"}, "'staging' is not one of"),
        ({"AWS_REGION": "us-east-1"}, "one of them is stale"),
        ({"EKS_CLUSTER_NAME": "bad name"}, "is not an EKS cluster name"),
        ({"EKS_CLUSTER_NAME": "predictor-staging"}, "manifests were synthesized for"),
        ({"ROLLOUT_TIMEOUT_SECONDS": "forever"}, "is not a whole number of seconds"),
    ],
)
def test_malformed_inputs_are_refused_before_anything_runs(sandbox, override, message):
    sandbox.scenario()
    sandbox.env.update(_inputs(**override))

    result = sandbox.run("all")

    assert result.returncode == 2
    assert message in result.stderr
    assert sandbox.calls() == []


def test_missing_tools_are_named_before_anything_runs(sandbox):
    sandbox.scenario(tools=("aws", "docker", "make", "curl"))
    sandbox.env.update(_inputs())

    result = sandbox.run("all")

    assert result.returncode == 2
    assert "kubectl: not found on PATH (needed by release)" in result.stderr
    assert sandbox.calls() == []


def test_validate_checks_the_deploy_role_and_runs_nothing(sandbox):
    sandbox.scenario()
    sandbox.env.update(_inputs())
    account = PROD["terraform_outputs"]["account_id"]

    good = sandbox.run(
        "validate", "--role-arn", f"arn:aws:iam::{account}:role/predictor-production-github-deploy"
    )
    missing = sandbox.run("validate", "--role-arn", "")
    elsewhere = sandbox.run("validate", "--role-arn", "arn:aws:iam::111122223333:role/deploy")

    assert good.returncode == 0, good.stderr
    assert "nothing was run" in good.stdout
    assert missing.returncode == 2
    assert "deploy role (--role-arn / AWS_DEPLOY_ROLE_ARN): missing" in missing.stderr
    assert elsewhere.returncode == 2
    assert f"is not in account {account}" in elsewhere.stderr
    assert sandbox.calls() == []
