"""Each custom checkov check (policies/checkov) passes on its passing fixture and fails on exactly the
failing fixture's cases, through the checkov gate of `make policy`.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from policies.gates.checkov import custom_check_ids
from tests.policies.conftest import FIXTURES, REPO_ROOT, PolicyRun, run_policy

pytestmark = pytest.mark.slow

FAILING_CASES = {
    "CKV_PRED_K8S_1": {
        "Ingress.unlabelled.http-only",
        "Ingress.unlabelled.http-not-redirected",
        "Ingress.unlabelled.tls12-policy",
        "Ingress.unlabelled.tls13-policy-admits-tls10",
    },
    "CKV_PRED_K8S_2": {"Pod.unlabelled.host-path", "Service.serverless.knative-host-path"},
    "CKV_PRED_K8S_3": {
        "Deployment.unlabelled.no-zone-spread",
        "Deployment.unlabelled.zone-spread-anyway",
        "StatefulSet.unlabelled.zone-spread-other-pods",
    },
    "CKV_PRED_K8S_4": {"Namespace.default.unlabelled"},
    "CKV_PRED_K8S_5": {"EC2NodeClass.default.imds-optional"},
    "CKV_PRED_K8S_6": {"EC2NodeClass.default.hop-limit-two"},
    "CKV_PRED_K8S_7": {"EC2NodeClass.default.plain-root-volume"},
    "CKV_PRED_K8S_8": {
        "Role.deploy.reads-secrets",
        "Role.deploy.execs-into-pods",
        "Role.deploy.mints-tokens",
        "ClusterRole.default.impersonates",
        "Role.deploy.any-verb",
        "Role.deploy.escalates-in-second-rule",
    },
}


def _root(name: str, target):
    shutil.copytree(FIXTURES / "checkov" / name, target)
    # Every framework must read something: a small infra/, the real Dockerfile and workflows.
    shutil.copytree(FIXTURES / "checkov" / "infra", target / "infra")
    shutil.copy2(REPO_ROOT / "Dockerfile", target / "Dockerfile")
    shutil.copytree(
        REPO_ROOT / ".github", target / ".github", ignore=shutil.ignore_patterns(".mypy_cache", "__pycache__")
    )
    return target


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, PolicyRun]:
    work = tmp_path_factory.mktemp("checkov-fixtures")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(
                run_policy, work / f"{name}-reports", root=_root(name, work / name), gates="checkov"
            )
            for name in ("passing", "failing")
        }
        return {name: future.result() for name, future in futures.items()}


def _failed_resources(text: str) -> set[str]:
    """`path:line: resource: title` lines of a check's failure -> the resources."""
    return {line.split(": ")[1] for line in text.splitlines() if line.count(": ") >= 2}


def test_every_custom_check_has_a_failing_case():
    assert set(FAILING_CASES) == set(custom_check_ids())


def test_no_custom_check_crashed_or_was_skipped(runs):
    for run in runs.values():
        assert run.errors("checkov") == [], run.output[-3000:]


def test_every_custom_check_passes_its_passing_fixture(runs):
    run = runs["passing"]
    passed = {name.split(" ")[0] for name in run.passed("checkov")}
    failed = {name.split(" ")[0] for name in run.failures("checkov")}
    assert set(FAILING_CASES) <= passed
    assert not failed & set(FAILING_CASES)


@pytest.mark.parametrize("check", sorted(FAILING_CASES))
def test_each_custom_check_fails_exactly_its_cases(runs, check):
    failures = {name.split(" ")[0]: text for name, text in runs["failing"].failures("checkov").items()}
    assert check in failures, f"{check} did not fail"
    assert _failed_resources(failures[check]) == FAILING_CASES[check]


def test_a_namespace_with_nothing_behind_the_alb_is_not_judged(runs):
    failures = {name.split(" ")[0]: text for name, text in runs["failing"].failures("checkov").items()}
    assert "Namespace.default.batch" not in failures["CKV_PRED_K8S_4"]
