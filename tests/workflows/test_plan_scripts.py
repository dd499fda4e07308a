"""The pull-request plan job's scripts: when a plan is needed, running it, and summarizing it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.workflows.conftest import SCRIPTS_DIR, Sandbox, load_workflow
from tools.common import REPO_ROOT

PLAN_SUMMARY = "tools.deploy.plan_summary"
PLAN_NEEDED = SCRIPTS_DIR / "plan_needed.sh"
TERRAFORM_PLAN = SCRIPTS_DIR / "terraform_plan.sh"
SYSTEM_PATH = "/usr/bin:/bin"


def _change(address: str, *actions: str) -> dict:
    return {"address": address, "change": {"actions": list(actions)}}


PLAN = {
    "format_version": "1.2",
    "terraform_version": "1.11.4",
    "resource_changes": [
        _change("module.ecr.aws_ecr_repository.this", "no-op"),
        _change("module.alb.aws_lb_listener.https", "update"),
        _change("module.network.aws_subnet.private[0]", "create"),
        _change("module.network.aws_subnet.private[1]", "create"),
        _change("module.eks.aws_eks_node_group.this", "create", "delete"),
        _change("module.observability.aws_sns_topic.alarms", "delete"),
        _change("data.aws_caller_identity.current", "read"),
    ],
}


@pytest.fixture
def plan_json(tmp_path: Path) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- summary


def test_the_summary_counts_and_lists_every_change_destructive_first(sandbox: Sandbox, plan_json: Path):
    sandbox.scenario()
    summary = sandbox.root / "summary.md"
    sandbox.env.update({"GITHUB_SHA": "abc123"})

    result = sandbox.run(
        "--plan-json",
        str(plan_json),
        "--compliance-outcome",
        "success",
        "--output",
        str(summary),
        module=PLAN_SUMMARY,
    )

    assert result.returncode == 0, result.stderr
    text = summary.read_text(encoding="utf-8")
    assert "### Terraform plan: 2 to add, 1 to change, 1 to destroy, 1 to replace" in text
    assert "2 resource(s) will be destroyed or replaced" in text
    assert "terraform-compliance (policies/terraform): **passed**" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert [row.split(" | ")[0] for row in rows] == [
        "| destroy",
        "| replace",
        "| create",
        "| create",
        "| update",
        "| read",
    ]
    assert "aws_ecr_repository" not in text, "no-ops are not changes"
    assert "`abc123`" in text
    assert sandbox.calls() == [], "the summary posts nothing itself"


def test_a_failed_compliance_run_is_shown_with_its_output(sandbox: Sandbox, plan_json: Path):
    sandbox.scenario()
    report = sandbox.root / "compliance.txt"
    report.write_text("\x1b[31mFailure:\x1b[39m aws_iam_policy.deploy allows * actions\n", encoding="utf-8")
    summary = sandbox.root / "summary.md"

    result = sandbox.run(
        "--plan-json",
        str(plan_json),
        "--compliance-outcome",
        "failure",
        "--compliance-report",
        str(report),
        "--output",
        str(summary),
        module=PLAN_SUMMARY,
    )

    assert result.returncode == 0, result.stderr
    text = summary.read_text(encoding="utf-8")
    assert "**FAILED**" in text
    assert "Failure: aws_iam_policy.deploy allows * actions" in text
    assert "\x1b" not in text, "terminal colours do not belong in a comment"


def test_an_empty_plan_says_so(sandbox: Sandbox, tmp_path: Path):
    sandbox.scenario()
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"format_version": "1.2"}), encoding="utf-8")

    result = sandbox.run("--plan-json", str(empty), "--output", str(tmp_path / "s.md"), module=PLAN_SUMMARY)

    assert result.returncode == 0, result.stderr
    assert "No resource changes." in (tmp_path / "s.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "Expecting property name"),
        (json.dumps({"resource_changes": []}), "not a terraform plan"),
        (
            json.dumps({"format_version": "1.2", "resource_changes": [_change("x.y", "explode")]}),
            "unknown actions",
        ),
        (
            json.dumps({"format_version": "1.2", "resource_changes": [{"address": "x.y"}]}),
            "lacks its address",
        ),
    ],
)
def test_an_unreadable_plan_fails_and_writes_nothing(
    sandbox: Sandbox, tmp_path: Path, content: str, message: str
):
    sandbox.scenario()
    plan = tmp_path / "plan.json"
    plan.write_text(content, encoding="utf-8")

    result = sandbox.run("--plan-json", str(plan), "--output", str(tmp_path / "s.md"), module=PLAN_SUMMARY)

    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "s.md").exists()


def _summary_step(sandbox: Sandbox, plan_json: Path) -> subprocess.CompletedProcess[str]:
    """The plan job's summary step, run as Actions runs it (bash -e), with the stand-in gh."""
    (step,) = [
        step
        for step in load_workflow("ci.yml")["jobs"]["plan"]["steps"]
        if "plan_summary" in step.get("run", "")
    ]
    sandbox.env.update(
        {
            "PATH": f"{sandbox.root / 'bin'}:{Path(sys.executable).parent}:{SYSTEM_PATH}",
            "PYTHONPATH": str(REPO_ROOT),
            "PLAN_DIR": str(plan_json.parent),
            "PR_NUMBER": "17",
            "COMPLIANCE_OUTCOME": "success",
            "GITHUB_STEP_SUMMARY": str(sandbox.root / "step-summary.md"),
        }
    )
    (sandbox.root / "step-summary.md").write_text("earlier step\n", encoding="utf-8")
    return sandbox.execute("bash", "-e", "-c", step["run"])


def test_the_workflow_appends_the_summary_and_keeps_one_comment_on_the_pull_request(
    sandbox: Sandbox, plan_json: Path
):
    sandbox.scenario()

    result = _summary_step(sandbox, plan_json)

    assert result.returncode == 0, result.stderr
    summary = (plan_json.parent / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("### Terraform plan: 2 to add")
    step_summary = (sandbox.root / "step-summary.md").read_text(encoding="utf-8")
    assert step_summary == "earlier step\n" + summary, "appended, not replaced"
    (comment,) = sandbox.calls("gh")
    # gh edits the last comment of the job's token on the pull request, or makes the first one.
    assert comment["argv"][:3] == ["pr", "comment", "17"]
    assert {"--edit-last", "--create-if-none"} <= set(comment["argv"])
    assert comment["argv"][comment["argv"].index("--body-file") + 1] == str(plan_json.parent / "summary.md")


def test_a_refused_comment_fails_the_step(sandbox: Sandbox, plan_json: Path):
    sandbox.scenario(gh_fails=True)

    result = _summary_step(sandbox, plan_json)

    assert result.returncode == 1
    assert "Resource not accessible by integration" in result.stderr


# ---------------------------------------------------------------------------------------------- plan needed


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


@pytest.fixture
def pull_request(tmp_path: Path):
    """A repository with a base commit; returns a function committing a change and giving (base, head)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet", "--initial-branch=main")
    _git(repo, "config", "user.email", "ci@example.com")
    _git(repo, "config", "user.name", "CI")
    (repo / "infra").mkdir()
    (repo / "infra/main.tf").write_text("# base\n", encoding="utf-8")
    (repo / "README.md").write_text("base\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "--quiet", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")

    def change(path: str) -> tuple[Path, str, str]:
        _git(repo, "checkout", "--quiet", "-b", f"change-{path.replace('/', '-')}", base)
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("changed\n", encoding="utf-8")
        _git(repo, "add", ".")
        _git(repo, "commit", "--quiet", "-m", f"change {path}")
        return repo, base, _git(repo, "rev-parse", "HEAD")

    return change


def _plan_needed(sandbox: Sandbox, repo: Path, base: str, head: str, head_repository: str):
    output = sandbox.root / "github-output"
    output.write_text("", encoding="utf-8")
    sandbox.env.update(
        {
            "PATH": SYSTEM_PATH,
            "BASE_SHA": base,
            "HEAD_SHA": head,
            "HEAD_REPOSITORY": head_repository,
            "GITHUB_REPOSITORY": "example-org/predictor-service",
            "GITHUB_OUTPUT": str(output),
        }
    )
    result = subprocess.run(
        ["bash", str(PLAN_NEEDED)],
        env=sandbox.env,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, output.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("infra/modules/alb/listeners.tf", "plan=true"),
        ("policies/terraform/iam.feature", "plan=true"),
        ("README.md", "plan=false"),
        ("api/app.py", "plan=false"),
    ],
)
def test_a_plan_is_needed_when_the_infrastructure_changes(sandbox, pull_request, path, expected):
    repo, base, head = pull_request(path)

    result, output = _plan_needed(sandbox, repo, base, head, "example-org/predictor-service")

    assert result.returncode == 0, result.stderr
    assert output == f"{expected}\n"


def test_a_fork_changing_the_infrastructure_gets_no_plan_and_a_warning(sandbox, pull_request):
    repo, base, head = pull_request("infra/main.tf")

    result, output = _plan_needed(sandbox, repo, base, head, "someone/predictor-service")

    assert result.returncode == 0, result.stderr
    assert output == "plan=false\n"
    assert "::warning title=Terraform plan skipped::" in result.stdout
    assert "forks no OIDC token" in result.stdout


def test_plan_needed_refuses_to_guess_without_its_inputs(sandbox, pull_request):
    repo, _, _ = pull_request("infra/main.tf")
    sandbox.env.update({"PATH": SYSTEM_PATH})

    result = subprocess.run(
        ["bash", str(PLAN_NEEDED)],
        env=sandbox.env,
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "BASE_SHA is not set" in result.stderr


# ---------------------------------------------------------------------------------------------- plan


def test_the_plan_is_read_only_and_exported_as_json(sandbox: Sandbox):
    sandbox.scenario(tools=("terraform",))
    sandbox.env.update(
        {
            "PATH": f"{sandbox.root / 'bin'}:{SYSTEM_PATH}",
            "TF_BACKEND_HCL": 'bucket = "state"\nkey = "predictor/production/terraform.tfstate"',
            "TF_VARS": 'account_id = "123456789012"',
        }
    )
    out = sandbox.root / "plan"

    result = sandbox.execute("bash", str(TERRAFORM_PLAN), str(out))

    assert result.returncode == 0, result.stderr
    commands = [call["argv"] for call in sandbox.calls("terraform")]
    assert [next(arg for arg in argv if not arg.startswith("-")) for argv in commands] == [
        "init",
        "validate",
        "plan",
        "show",
    ]
    init, _, plan, show = commands
    assert f"-backend-config={out}/backend.hcl" in init
    assert "-lockfile=readonly" in init
    assert "-lock=false" in plan, "the plan role may not write, not even the state lock"
    assert f"-var-file={out}/ci.auto.tfvars" in plan
    assert "-json" in show
    assert (out / "backend.hcl").read_text(encoding="utf-8").startswith('bucket = "state"')
    assert json.loads((out / "plan.json").read_text(encoding="utf-8"))["format_version"] == "1.2"


def test_the_plan_names_missing_variables_and_runs_nothing(sandbox: Sandbox):
    sandbox.scenario(tools=("terraform",))
    sandbox.env.update({"PATH": f"{sandbox.root / 'bin'}:{SYSTEM_PATH}", "TF_VARS": ""})

    result = sandbox.execute("bash", str(TERRAFORM_PLAN), str(sandbox.root / "plan"))

    assert result.returncode == 2
    assert "TF_BACKEND_HCL is not set" in result.stderr
    assert "TF_VARS is not set" in result.stderr
    assert sandbox.calls() == []


def test_a_failed_plan_leaves_no_plan_json(sandbox: Sandbox):
    sandbox.scenario(tools=("terraform",), plan_fails=True)
    sandbox.env.update(
        {"PATH": f"{sandbox.root / 'bin'}:{SYSTEM_PATH}", "TF_BACKEND_HCL": "bucket = 1", "TF_VARS": "x = 1"}
    )

    result = sandbox.execute("bash", str(TERRAFORM_PLAN), str(sandbox.root / "plan"))

    assert result.returncode != 0
    assert not (sandbox.root / "plan" / "plan.json").exists()
