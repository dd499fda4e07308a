"""terraform fmt, init, validate and the modules' terraform tests, plus proof that those tests bite."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import background
from tools.common import REPO_ROOT
from tools.infra import tfcheck, tfenv

pytestmark = [pytest.mark.slow, pytest.mark.system]

CONFIG_DIRS = tfenv.config_dirs()
IDS = [str(d.relative_to(REPO_ROOT)) for d in CONFIG_DIRS]
TESTED = [d for d in CONFIG_DIRS if tfcheck.has_tests(d)]


def test_terraform_fmt_check_recursive_passes(terraform):
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff"],
        cwd=REPO_ROOT / "infra",
        env=tfenv.terraform_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"unformatted files:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("config_dir", CONFIG_DIRS, ids=IDS)
def test_init_and_validate(config_results, config_dir):
    result = config_results[str(config_dir.relative_to(REPO_ROOT))]
    assert result.error is None, result.error


def test_the_modules_that_carry_the_rules_have_terraform_tests():
    tested = {d.name for d in TESTED}
    assert {"github_oidc", "ecr", "alb", "observability", "eks", "secrets", "network", "karpenter"} <= tested


@pytest.mark.parametrize("config_dir", TESTED, ids=[d.name for d in TESTED])
def test_module_terraform_tests_pass(config_results, config_dir):
    result = config_results[str(config_dir.relative_to(REPO_ROOT))]
    assert result.error is None, result.error
    match = re.search(r"(\d+) passed, (\d+) failed", result.test_summary or "")
    assert match, f"unexpected terraform test summary: {result.test_summary!r}"
    assert int(match.group(1)) > 0
    assert int(match.group(2)) == 0


# Each mutation re-introduces a weakness the module's tests exist to catch; the copy must fail
# and name the broken rule.
MUTATIONS = {
    "wildcard_trust": (
        "github_oidc",
        "main.tf",
        [("StringEquals = {", "StringLike = {")],
        "Trust conditions must be StringEquals only",
    ),
    "mutable_tags": (
        "ecr",
        "main.tf",
        [('image_tag_mutability = "IMMUTABLE"', 'image_tag_mutability = "MUTABLE"')],
        "Tags must be immutable.",
    ),
    "http_forwards": (
        "alb",
        "listeners.tf",
        [
            (
                (
                    '    type = "redirect"\n\n    redirect {\n      protocol    = "HTTPS"\n'
                    '      port        = "443"\n      status_code = "HTTP_301"\n    }'
                ),
                (
                    '    type             = "forward"\n'
                    '    target_group_arn = aws_lb_target_group.track["stable"].arn'
                ),
            )
        ],
        "The HTTP listener's only action must be a redirect.",
    ),
    "pass_any_role": (
        "karpenter",
        "controller.tf",
        [("      Resource  = local.node_role_arn\n", '      Resource  = "*"\n')],
        "iam:PassRole must name the node role's ARN and nothing else.",
    ),
    "silent_alarm": (
        "observability",
        "alarms.tf",
        [("  actions = [aws_sns_topic.alarms.arn]", "  actions = []")],
        "Every alarm must notify the topic",
    ),
}


@dataclass(frozen=True)
class MutationOutcome:
    """What `terraform test` said about a copy of the modules with one weakness put back."""

    missing: str | None  # the text to replace, when the mutation no longer applies
    returncode: int
    output: str


def _test_mutated_module(terraform: str, workdir: Path, mutation: str) -> MutationOutcome:
    module, file_name, replacements, _expected = MUTATIONS[mutation]
    modules = workdir / "modules"
    shutil.copytree(REPO_ROOT / "infra" / "modules", modules, ignore=shutil.ignore_patterns(".terraform*"))
    target = modules / module / file_name
    text = target.read_text()
    for old, new in replacements:
        if old not in text:
            return MutationOutcome(f"{module}/{file_name}: {old!r}", 0, "")
        text = text.replace(old, new)
    target.write_text(text)
    env = tfenv.terraform_env(data_dir=workdir / ".terraform")
    subprocess.run(
        [terraform, "init", "-backend=false"], cwd=modules / module, env=env, capture_output=True, check=True
    )
    result = subprocess.run(
        [terraform, "test", "-no-color"],
        cwd=modules / module,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return MutationOutcome(None, result.returncode, result.stdout + result.stderr)


@background.session_fixture
def mutation_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, MutationOutcome]:
    """Every mutation's terraform test, run side by side (each is one mostly idle terraform process)."""
    try:
        terraform = tfenv.terraform_binary()
    except tfenv.TerraformEnvError as error:
        pytest.fail(str(error), pytrace=False)
    workdirs = {m: tmp_path_factory.mktemp(f"mutation-{m}") for m in MUTATIONS}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {m: pool.submit(_test_mutated_module, terraform, workdirs[m], m) for m in MUTATIONS}
        return {m: future.result() for m, future in futures.items()}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=list(MUTATIONS))
def test_module_tests_fail_on_a_reintroduced_weakness(mutation_outcomes, mutation):
    outcome = mutation_outcomes[mutation]
    assert outcome.missing is None, f"mutation {mutation} no longer applies to {outcome.missing}"
    assert outcome.returncode != 0, f"terraform test passed on the {mutation} mutation:\n{outcome.output}"
    assert MUTATIONS[mutation][3] in outcome.output
