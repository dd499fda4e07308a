"""Mutation test: copies of the real infra/, dist/, Dockerfile and workflows with known violations
injected fail `make policy` (only the gates the violations concern, through the same make target), and
each failure names its rule. Mutations share a copy when they touch different files, so infra/ is
planned once for all of its mutations instead of once each; every failure must then name the file (or
the injected value) of a mutation that explains it, and every mutation's rules must fail there. A copy
that fails for another reason would prove nothing.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath

import pytest

from tests.policies.conftest import REPO_ROOT, PolicyRun, copy_root, run_policy
from tests.support import background

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Mutation:
    path: str
    old: str
    new: str
    gates: str
    # gate -> the rules (checkov/hadolint/zizmor IDs or scenario names) that must fail, and only those.
    expected: dict[str, set[str]]
    # What each failure it causes names; by default its file, or its module's folder for Terraform (a
    # finding may cite a sibling file of the module).
    evidence: str = ""

    @property
    def where(self) -> str:
        if self.evidence:
            return self.evidence
        return f"{PurePosixPath(self.path).parent}/" if self.path.startswith("infra/") else self.path


MUTATIONS = {
    "wildcard action (Karpenter controller)": Mutation(
        "infra/modules/karpenter/controller.tf",
        'Action   = "ec2:CreateTags"',
        'Action   = "ec2:*"',
        "terraform-compliance",
        {"terraform-compliance": {"Allow statements grant no wildcard action [aws_iam_role_policy, policy]"}},
        evidence="'Action': 'ec2:*'",  # the failure quotes the statement, not the file
    ),
    "AWS-managed policy outside the role's allowlist (Karpenter node)": Mutation(
        "infra/modules/karpenter/main.tf",
        '    "AmazonSSMManagedInstanceCore",\n',
        '    "AmazonSSMManagedInstanceCore",\n    "AdministratorAccess",\n',
        "terraform-compliance",
        {"plan": {"POL_PLAN_006"}},
        evidence="module.karpenter.aws_iam_role.node carries arn:aws:iam::aws:policy/AdministratorAccess",
    ),
    "public API endpoint open to both halves of the internet": Mutation(
        "infra/variables.tf",
        'private."\n  type        = list(string)\n  default     = []',
        'private."\n  type        = list(string)\n  default     = ["0.0.0.0/1", "128.0.0.0/1"]',
        "terraform-compliance",
        {"plan": {"POL_PLAN_005"}},
        evidence="['0.0.0.0/1', '128.0.0.0/1']",
    ),
    "TLS 1.0 behind a TLS 1.3 policy name (service card)": Mutation(
        "api/service.json",
        '"tls_policy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"',
        '"tls_policy": "ELBSecurityPolicy-TLS13-1-0-2021-06"',
        "terraform-compliance",
        {"terraform-compliance": {"HTTPS listeners negotiate with a TLS 1.3 policy"}},
        evidence="ssl_policy property in module.alb.aws_lb_listener.https ",  # the message omits the value
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
        evidence="predictor-service:*'",  # the failure quotes the trust statement, not the file
    ),
    "Pod Identity trust without the source account": Mutation(
        "infra/modules/pod_identity_role/main.tf",
        '          "aws:SourceAccount"                         = local.account_id\n',
        "",
        "terraform-compliance",
        {"terraform-compliance": {"Pod Identity trust is held to the account by aws:SourceAccount"}},
        evidence="AssumeFromOneServiceAccountThroughPodIdentity",  # the failure quotes the trust statement
    ),
    "plan role reads every resource of its services": Mutation(
        "infra/modules/github_oidc/plan_role.tf",
        "Resource = local.plan_scoped_resources",
        'Resource = "*"',
        "terraform-compliance",
        {
            "terraform-compliance": {
                (
                    "Allow statements on every resource grant only actions that take no resource"
                    " [aws_iam_role_policy]"
                )
            }
        },
        evidence="'acm:DescribeCertificate', 'acm:ListTagsForCertificate'",  # the plan role's statement
    ),
    "service principal without a source account (load balancer logs)": Mutation(
        "infra/modules/alb/access_logs.tf",
        'Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }',
        "",
        "terraform-compliance",
        {
            "terraform-compliance": {
                (
                    "Service principals in resource policies carry aws:SourceAccount, aws:SourceArn or the"
                    " encryption context of one account [aws_s3_bucket_policy]"
                )
            }
        },
        evidence="'Sid': 'LogDeliveryWritesAccessLogs'",  # the failure quotes the statement, not the file
    ),
    "deployer Role reads Secrets and execs into pods": Mutation(
        "dist/prod-cluster/30-role-predictor-deployer.yaml",
        "      - serviceaccounts\n",
        "      - serviceaccounts\n      - secrets\n      - pods/exec\n",
        "checkov",
        {"checkov": {"CKV_PRED_K8S_8"}},
    ),
    "secret read in any account (ARN account position)": Mutation(
        "infra/modules/secrets/main.tf",
        "${local.account_id}:secret:${var.secret_name}-??????",
        "*:secret:${var.secret_name}-??????",
        "terraform-compliance",
        {
            "terraform-compliance": {
                (
                    "Allow statements on every resource grant only actions that take no resource"
                    " [aws_iam_role_policy]"
                )
            }
        },
        evidence="'secretsmanager:GetSecretValue'",  # the failure quotes the reader's statement
    ),
    "trust action glob (node role)": Mutation(
        "infra/modules/eks/node_group.tf",
        'Action    = "sts:AssumeRole"',
        'Action    = "sts:Assume*"',
        "terraform-compliance",
        {"terraform-compliance": {"Trust policies allow exact actions, not globs"}},
        evidence="'sts:Assume*'",
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
    target_group_arn = aws_lb_target_group.track["stable"].arn""",
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
        "dist/dev/40-deployment-predictor.yaml",
        "            privileged: false",
        "            privileged: true",
        "checkov",
        {"checkov": {"CKV_K8S_16"}},
    ),
    "privilege escalation": Mutation(
        "dist/dev/40-deployment-predictor.yaml",
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


def _batches() -> list[list[str]]:
    """The mutations packed into as few copies as possible, never two in one file (in MUTATIONS' order:
    the Terraform ones share the first copy, planned once)."""
    batches: list[list[str]] = []
    for name, mutation in MUTATIONS.items():
        free = (b for b in batches if all(MUTATIONS[other].path != mutation.path for other in b))
        batch = next(free, None)
        if batch is None:
            batches.append(batch := [])
        batch.append(name)
    return batches


BATCHES = _batches()
BATCH_OF = {name: index for index, batch in enumerate(BATCHES) for name in batch}


def _gates(batch: list[str]) -> list[str]:
    return sorted({gate for name in batch for gate in MUTATIONS[name].gates.split(",")})


def _run(batch: list[str], work) -> PolicyRun:
    root = copy_root(work / "root")
    for name in batch:
        mutation = MUTATIONS[name]
        target = root / mutation.path
        text = target.read_text(encoding="utf-8")
        # The mutation must still apply: if the source moved on, this says so instead of passing.
        assert mutation.old in text, f"{name}: {mutation.path} no longer contains {mutation.old!r}"
        target.write_text(text.replace(mutation.old, mutation.new, 1), encoding="utf-8")
    return run_policy(work / "reports", root=root, gates=",".join(_gates(batch)))


@background.session_fixture
def mutation_runs(tmp_path_factory: pytest.TempPathFactory) -> list[PolicyRun]:
    """Every copy, two at a time (the first, with the Terraform mutations, plans infra/: about 45 s)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_run, batch, tmp_path_factory.mktemp("mutation")) for batch in BATCHES]
        return [future.result() for future in futures]


def test_no_two_mutations_of_a_copy_touch_one_file():
    for batch in BATCHES:
        paths = [MUTATIONS[name].path for name in batch]
        assert len(paths) == len(set(paths)), batch


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_fails_make_policy_naming_its_rule(mutation_runs, name):
    run, mutation = mutation_runs[BATCH_OF[name]], MUTATIONS[name]
    assert run.returncode != 0, f"{name} passed make policy:\n{run.output[-3000:]}"
    for gate, rules in mutation.expected.items():
        assert run.errors(gate) == [], f"{gate} could not read its input: {run.errors(gate)}"
        findings = run.findings(gate)
        for rule in rules:
            assert any(r == rule and mutation.where in text for r, text in findings), (
                f"{gate}: {rule} did not fail at {mutation.where}: {findings}"
            )
            assert rule in run.output, f"the console names {rule}"


@pytest.mark.parametrize("index", range(len(BATCHES)))
def test_every_failure_of_a_copy_is_one_its_mutations_explain(mutation_runs, index):
    run, batch = mutation_runs[index], [MUTATIONS[name] for name in BATCHES[index]]
    gates = _gates(BATCHES[index])
    # The terraform-compliance gate brings the plan gate: its failures must be explained too.
    for gate in [*gates, *(["plan"] if "terraform-compliance" in gates else [])]:
        assert run.errors(gate) == [], f"{gate} could not read its input: {run.errors(gate)}"
        for rule, text in run.findings(gate):
            explained = [m for m in batch if rule in m.expected.get(gate, set()) and m.where in text]
            assert explained, f"{gate}: {rule} failed for no mutation of {BATCHES[index]}:\n{text}"


def test_every_finding_in_the_sarif_points_at_a_file_of_the_judged_tree(mutation_runs):
    """Code scanning places a finding by its repository-relative path: each one must name a real file."""
    for index, run in enumerate(mutation_runs):
        name, root = BATCHES[index], run.reports.parent / "root"
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
