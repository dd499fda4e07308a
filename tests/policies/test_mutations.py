"""Mutation test: copies of the real infra/, dist/, Dockerfile and workflows, each with one known violation
injected, fail `make policy` (only the gates the violation concerns, through the same make target) and
the failure names the rule. Every failing rule must be one the violation explains: a copy that fails for
another reason would prove nothing.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.policies.conftest import REPO_ROOT, PolicyRun, copy_root, run_policy

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Mutation:
    path: str
    old: str
    new: str
    gates: str
    # gate -> the rules (checkov/hadolint/zizmor IDs or scenario names) that must fail, and only those.
    expected: dict[str, set[str]]


MUTATIONS = {
    "wildcard action (Karpenter controller)": Mutation(
        "infra/modules/karpenter/controller.tf",
        'Action   = "ec2:CreateTags"',
        'Action   = "ec2:*"',
        "terraform-compliance",
        {"terraform-compliance": {"Allow statements grant no wildcard action [aws_iam_role_policy, policy]"}},
    ),
    "interruption queue without KMS (Karpenter)": Mutation(
        "infra/modules/karpenter/interruption.tf",
        "kms_master_key_id                 = module.queue_key.arn",
        "sqs_managed_sse_enabled           = true",
        "terraform-compliance",
        {"terraform-compliance": {"SQS queues are encrypted with a KMS key"}},
    ),
    "wildcard OIDC subject (GitHub)": Mutation(
        "infra/modules/github_oidc/main.tf",
        'deploy_subject = "repo:${var.repository}:${var.deploy_subject}"',
        'deploy_subject = "repo:${var.repository}:*"',
        "terraform-compliance",
        {
            "terraform-compliance": {
                "Web-identity trust conditions hold no wildcard",
                "Web-identity trust requires one exact subject",
            },
        },
    ),
    "wildcard OIDC subject (IRSA module)": Mutation(
        "infra/modules/irsa_role/main.tf",
        '"system:serviceaccount:${var.namespace}:${var.service_account}"',
        '"system:serviceaccount:${var.namespace}:*"',
        "terraform-compliance",
        {
            "terraform-compliance": {
                "Web-identity trust conditions hold no wildcard [infra/modules/irsa_role]",
                "Web-identity trust requires one exact subject [infra/modules/irsa_role]",
            }
        },
    ),
    "HTTP forward listener": Mutation(
        "infra/modules/alb/listeners.tf",
        """    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }""",
        """    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn""",
        "terraform-compliance,checkov",
        {
            "terraform-compliance": {"Plain-HTTP listeners have no action but a redirect"},
            # checkov's own listener checks agree: HTTP is served, not redirected.
            "checkov": {"CKV_AWS_2", "CKV_AWS_103", "CKV2_AWS_20", "CKV_AWS_378"},
        },
    ),
    "MUTABLE ECR": Mutation(
        "infra/modules/ecr/main.tf",
        'image_tag_mutability = "IMMUTABLE"',
        'image_tag_mutability = "MUTABLE"',
        "terraform-compliance,checkov",
        {"terraform-compliance": {"ECR image tags are immutable"}, "checkov": {"CKV_AWS_51"}},
    ),
    "root container": Mutation(
        "dist/prod/40-deployment-predictor.yaml",
        "            runAsNonRoot: true\n            runAsUser: 10001",
        "            runAsNonRoot: false\n            runAsUser: 0",
        "checkov",
        {"checkov": {"CKV_K8S_23", "CKV_K8S_40"}},
    ),
    "privileged container": Mutation(
        "dist/prod/40-deployment-predictor.yaml",
        "            privileged: false",
        "            privileged: true",
        "checkov",
        {"checkov": {"CKV_K8S_16"}},
    ),
    "privilege escalation": Mutation(
        "dist/prod/40-deployment-predictor.yaml",
        "            allowPrivilegeEscalation: false",
        "            allowPrivilegeEscalation: true",
        "checkov",
        {"checkov": {"CKV_K8S_20"}},
    ),
    "missing read-only root filesystem": Mutation(
        "dist/prod/40-deployment-predictor.yaml",
        "            readOnlyRootFilesystem: true\n",
        "",
        "checkov",
        {"checkov": {"CKV_K8S_22"}},
    ),
    "latest image (manifest)": Mutation(
        "dist/prod/40-deployment-predictor.yaml",
        "dkr.ecr.eu-west-1.amazonaws.com/predictor:0.1.0",
        "dkr.ecr.eu-west-1.amazonaws.com/predictor:latest",
        "checkov",
        {"checkov": {"CKV_K8S_14"}},
    ),
    "latest image (Dockerfile)": Mutation(
        "Dockerfile",
        "FROM ${BASE_IMAGE}:${BASE_TAG} AS runtime",
        "FROM docker.io/library/python:latest AS runtime",
        "hadolint,checkov",
        {"hadolint": {"DL3007"}, "checkov": {"CKV_DOCKER_7"}},
    ),
    "root user (Dockerfile)": Mutation(
        "Dockerfile",
        "USER ${APP_UID}:${APP_UID}\n",
        "USER ${APP_UID}:${APP_UID}\nUSER root\n",
        "hadolint,checkov",
        {"hadolint": {"DL3002"}, "checkov": {"CKV_DOCKER_8"}},
    ),
    "unpinned apt package (Dockerfile)": Mutation(
        "Dockerfile", "binutils=2.40-2", "binutils", "hadolint", {"hadolint": {"DL3008"}}
    ),
    "no HEALTHCHECK (Dockerfile)": Mutation(
        "Dockerfile",
        "HEALTHCHECK --interval=",
        "# HEALTHCHECK --interval=",
        "hadolint,checkov",
        {"checkov": {"CKV_DOCKER_2"}},
    ),
    # zizmor's mutations (unpinned actions, template injection, ...) go through `make workflows-check`,
    # which runs the zizmor gate: tests/workflows/test_workflow_linters.py.
}


def _run(name: str, mutation: Mutation, work) -> PolicyRun:
    root = copy_root(work / "root")
    target = root / mutation.path
    text = target.read_text(encoding="utf-8")
    # The mutation must still apply (once): if the source moved on, this says so instead of passing.
    assert text.count(mutation.old) >= 1, f"{name}: {mutation.path} no longer contains {mutation.old!r}"
    target.write_text(text.replace(mutation.old, mutation.new, 1), encoding="utf-8")
    return run_policy(work / "reports", root=root, gates=mutation.gates)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, PolicyRun]:
    """Every mutation, two at a time (the infra ones first: each plans its copy, about 45 s)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            name: pool.submit(_run, name, mutation, tmp_path_factory.mktemp("mutation"))
            for name, mutation in MUTATIONS.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_fails_make_policy_naming_its_rule(runs, name):
    run, mutation = runs[name], MUTATIONS[name]
    assert run.returncode != 0, f"{name} passed make policy:\n{run.output[-3000:]}"
    for gate, rules in mutation.expected.items():
        assert run.errors(gate) == [], f"{gate} could not read its input: {run.errors(gate)}"
        assert run.rules_failed(gate) == rules, f"{gate}: {sorted(run.rules_failed(gate))}"
        for rule in rules:
            assert rule in run.output, f"the console names {rule}"
    untouched = [gate for gate in mutation.gates.split(",") if gate not in mutation.expected]
    for gate in [*untouched, *(["plan"] if "terraform" in mutation.gates else [])]:
        assert run.failures(gate) == {}


def test_every_finding_in_the_sarif_points_at_a_file_of_the_judged_tree(runs):
    """Code scanning places a finding by its repository-relative path: each one must name a real file."""
    for name, run in runs.items():
        root = run.reports.parent / "root"
        located = 0
        for sarif in run.reports.glob("*.sarif"):
            document = json.loads(sarif.read_text(encoding="utf-8"))
            for result in (r for sarif_run in document["runs"] for r in sarif_run.get("results", [])):
                for location in result.get("locations", []):
                    uri = location["physicalLocation"]["artifactLocation"]["uri"]
                    assert not uri.startswith("/"), f"{name}: {sarif.name} has an absolute path {uri}"
                    assert (root / uri).is_file() or (REPO_ROOT / uri).is_file(), (
                        f"{name}: {sarif.name}: {uri}"
                    )
                    located += 1
        assert located, f"{name}: no finding of the run has a location"
