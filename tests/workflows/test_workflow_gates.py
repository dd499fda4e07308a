"""The workflows, parsed: the gates a reviewer relies on are really wired the way the README says."""

from __future__ import annotations

import copy
import importlib.util
import os
import re

import pytest
import yaml

from tests.workflows.conftest import GITHUB_DIR, REPO_ROOT, WORKFLOWS_DIR

# The repository variable names the CodeBuild project (infra/'s deploy_runner_project output).
DEPLOY_RUNNER_LABEL = (
    "codebuild-${{ vars.DEPLOY_RUNNER_PROJECT }}-${{ github.run_id }}-${{ github.run_attempt }}"
)
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}$")
_VERSION_COMMENT = re.compile(r"^\s+#\s+v\d+\.\d+\.\d+(?:\s|$)")


def _jobs(workflow: dict) -> dict[str, dict]:
    return workflow["jobs"]


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def _step_index(job: dict, predicate) -> int:
    for index, step in enumerate(_steps(job)):
        if predicate(step):
            return index
    pytest.fail("no step matches")
    return -1


def _runs(step: dict, text: str) -> bool:
    return text in step.get("run", "")


def _assumes_a_role(job: dict) -> bool:
    return any(
        step.get("uses", "").startswith("aws-actions/configure-aws-credentials@") for step in _steps(job)
    )


def _all_jobs(workflows: dict[str, dict]):
    for name, workflow in workflows.items():
        for job_id, job in _jobs(workflow).items():
            yield name, job_id, job


# ---------------------------------------------------------------------------------------------- triggers


def test_deploy_runs_only_on_pushes_to_main(workflows):
    deploy = workflows["deploy.yml"]
    assert deploy["on"] == {"push": {"branches": ["main"]}}
    job = _jobs(deploy)["deploy"]
    assert "refs/heads/main" in job["if"]
    assert "github.event_name == 'push'" in job["if"]


def test_no_workflow_runs_untrusted_code_with_privileges(workflows):
    dangerous = {"pull_request_target", "workflow_run"}
    for name, workflow in workflows.items():
        triggers = workflow["on"] if isinstance(workflow["on"], dict) else {workflow["on"]: None}
        assert not dangerous & set(triggers), f"{name} uses a privileged trigger"


def test_pull_requests_run_ci_and_the_checks_are_shared_with_the_deploy(workflows):
    assert "pull_request" in workflows["ci.yml"]["on"]
    assert workflows["checks.yml"]["on"] == {"workflow_call": None}
    for name in ("ci.yml", "deploy.yml"):
        callers = [job for job in _jobs(workflows[name]).values() if job.get("uses")]
        assert [job["uses"] for job in callers] == ["./.github/workflows/checks.yml"], name


# ---------------------------------------------------------------------------------------------- gates


def test_the_checks_run_the_developers_commands(workflows):
    checks = _jobs(workflows["checks.yml"])
    run = {job_id: " ".join(step.get("run", "") for step in _steps(job)) for job_id, job in checks.items()}
    assert "make lint" in run["lint"]
    assert ".ci/run" in run["test"]
    assert "make test" in (REPO_ROOT / ".ci/run").read_text(encoding="utf-8")
    assert "make policy" in run["policy"]
    assert "make synth-check" in run["synth-check"]


def test_policy_findings_reach_code_scanning_and_only_that_job_may_write_them(workflows):
    for name, job_id, job in _all_jobs(workflows):
        writes_events = job.get("permissions", {}).get("security-events") == "write"
        uploads = any("codeql-action/upload-sarif@" in step.get("uses", "") for step in _steps(job))
        calls_checks = job.get("uses") == "./.github/workflows/checks.yml"
        assert writes_events == (uploads or calls_checks), f"{name}:{job_id}"
    policy = _jobs(workflows["checks.yml"])["policy"]
    upload = _step_index(policy, lambda step: "upload-sarif@" in step.get("uses", ""))
    assert _step_index(policy, lambda step: _runs(step, "make policy")) < upload
    assert "!cancelled()" in _steps(policy)[upload]["if"], "findings must be uploaded when the gate fails"


def test_tests_and_policy_gate_the_build(workflows):
    deploy = _jobs(workflows["deploy.yml"])
    assert deploy["checks"]["uses"] == "./.github/workflows/checks.yml"
    assert deploy["deploy"]["needs"] in ("checks", ["checks"])
    # the build is in the deploy job, which cannot start before every check passed
    assert any(_runs(step, "-m tools.deploy publish") for step in _steps(deploy["deploy"]))
    assert "always()" not in deploy["deploy"]["if"]


def test_the_scan_gate_comes_before_the_release_and_the_release_is_the_script(workflows):
    job = _jobs(workflows["deploy.yml"])["deploy"]
    assume = _step_index(job, lambda step: "configure-aws-credentials@" in step.get("uses", ""))
    publish = _step_index(job, lambda step: _runs(step, "-m tools.deploy publish"))
    scan = _step_index(job, lambda step: _runs(step, "-m tools.deploy scan"))
    release = _step_index(job, lambda step: _runs(step, "-m tools.deploy release"))
    validate = _step_index(job, lambda step: _runs(step, "-m tools.deploy validate"))
    assert validate < assume < publish < scan < release
    assert not any(_runs(step, "kubectl ") or _runs(step, "docker ") for step in _steps(job)), (
        "the deploy logic belongs in tools/deploy, not inline in YAML"
    )


def test_a_failed_or_cancelled_release_ends_with_the_canary_abort(workflows):
    job = _jobs(workflows["deploy.yml"])["deploy"]
    release = _step_index(job, lambda step: _runs(step, "-m tools.deploy release"))
    abort = _step_index(job, lambda step: _runs(step, "-m tools.deploy abort"))
    assert release < abort == len(_steps(job)) - 1
    condition = _steps(job)[abort]["if"]
    # Without cancelled() a cancelled job would skip it; failure() alone misses cancellation and vice versa.
    assert "cancelled()" in condition
    assert "failure()" in condition
    assert "always()" not in condition
    assert f"steps.{_steps(job)[release]['id']}.outcome != 'skipped'" in condition, "only once release began"


def test_deploys_happen_one_at_a_time_behind_the_production_environment(workflows):
    deploy = workflows["deploy.yml"]
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert "${{" not in deploy["concurrency"]["group"], "one group for every run: one deploy at a time"
    job = _jobs(deploy)["deploy"]
    assert job["environment"]["name"] == "production"
    assert workflows["ci.yml"]["concurrency"]["cancel-in-progress"] is True


def test_one_aggregate_job_is_the_required_check(workflows):
    jobs = _jobs(workflows["ci.yml"])
    aggregate = jobs["ci-passed"]
    assert aggregate["name"] == "CI passed"
    assert aggregate["if"] == "always()"
    assert set(aggregate["needs"]) == set(jobs) - {"ci-passed"}
    script = _steps(aggregate)[0]["run"]
    for job_id in set(jobs) - {"ci-passed"}:
        assert f"needs.{job_id}.result" in str(_steps(aggregate)[0]["env"].values()), job_id
    assert "exit 1" in script


def test_the_plan_job_runs_for_infrastructure_changes_with_the_read_only_role(workflows):
    jobs = _jobs(workflows["ci.yml"])
    plan = jobs["plan"]
    assert plan["needs"] == "changes"
    assert plan["if"] == "needs.changes.outputs.plan == 'true'"
    assume = next(step for step in _steps(plan) if "configure-aws-credentials@" in step.get("uses", ""))
    assert assume["with"]["role-to-assume"] == "${{ vars.AWS_PLAN_ROLE_ARN }}"
    assert "environment" not in plan, "the plan role trusts the pull_request subject, not an environment"
    runs = " ".join(step.get("run", "") for step in _steps(plan))
    assert "terraform_plan.sh" in runs
    assert "make plan-compliance" in runs
    assert "-m tools.deploy.plan_summary" in runs
    assert "gh pr comment" in runs
    deploy = next(
        step
        for step in _steps(_jobs(workflows["deploy.yml"])["deploy"])
        if "role-to-assume" in step.get("with", {})
    )
    assert deploy["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"


# ---------------------------------------------------------------------------------------------- hardening


def test_top_level_permissions_are_empty(workflows):
    for name, workflow in workflows.items():
        assert workflow["permissions"] == {}, name


def test_oidc_only_in_the_jobs_that_assume_a_role(workflows):
    assuming = set()
    for name, job_id, job in _all_jobs(workflows):
        wants_token = job.get("permissions", {}).get("id-token") == "write"
        assert wants_token == _assumes_a_role(job), f"{name}:{job_id}"
        if wants_token:
            assuming.add(f"{name}:{job_id}")
    assert assuming == {"ci.yml:plan", "deploy.yml:deploy"}


# What installs a tool: a setup action, a package manager, or the make targets that run one.
_INSTALLS = re.compile(
    r"\b(pip3? install|uv (sync|pip|tool)|npm (ci|install)|apt-get|curl|wget)\b"
    r"|\bmake (bootstrap|dev-env)\b|install_"
)


def _installs_while_credentials_are_live(job: dict) -> list[str]:
    """Steps after the role is assumed that install something, or run make targets that would (the
    environment they need was not installed before)."""
    steps = _steps(job)
    assumed = _step_index(job, lambda step: "configure-aws-credentials@" in step.get("uses", ""))
    found = [
        step.get("name") or step.get("uses") or step["run"]
        for step in steps[assumed + 1 :]
        if "/setup-" in step.get("uses", "") or _INSTALLS.search(step.get("run", ""))
    ]
    installed_before = any(
        re.search(r"\bmake (bootstrap|dev-env)\b", step.get("run", "")) for step in steps[:assumed]
    )
    if not installed_before and any("make " in step.get("run", "") for step in steps[assumed + 1 :]):
        found.append("make runs with credentials live and no locked environment installed before them")
    return found


def test_tools_are_installed_before_a_role_is_assumed(workflows):
    for name, job_id, job in _all_jobs(workflows):
        if _assumes_a_role(job):
            assert _installs_while_credentials_are_live(job) == [], f"{name}:{job_id}"


@pytest.mark.parametrize(
    "breaking",
    ["install-after", "setup-after", "pip-after"],
)
def test_a_plan_job_installing_with_live_credentials_fails(workflows, breaking):
    job = copy.deepcopy(_jobs(workflows["ci.yml"])["plan"])
    steps = job["steps"]
    install = _step_index(job, lambda step: _runs(step, "make dev-env"))
    if breaking == "install-after":
        steps.append(steps.pop(install))
    elif breaking == "setup-after":
        steps.append({"uses": "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020"})
    else:
        steps.append({"run": "pip install terraform-compliance"})
    assert _installs_while_credentials_are_live(job)


def test_every_job_declares_its_permissions_and_every_write_says_why(workflows):
    for name, job_id, job in _all_jobs(workflows):
        assert "permissions" in job, f"{name}:{job_id} inherits permissions"
        assert "write-all" not in str(job["permissions"])
    for path in WORKFLOWS_DIR.glob("*.yml"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"^\s+[a-z-]+: (write|read)\s*(#.*)?$", line):
                assert "#" in line, f"{path.name}:{number}: a permission without its reason"


def test_no_long_lived_credentials():
    for path in WORKFLOWS_DIR.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        assert "secrets." not in text, f"{path.name} uses a secret; the pipeline runs on OIDC and variables"
        assert "aws-access-key-id" not in text
        assert "secrets: inherit" not in text


def test_every_action_is_pinned_to_a_commit_with_its_version():
    seen: dict[str, set[str]] = {}
    count = 0
    for path in WORKFLOWS_DIR.glob("*.yml"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _USES.match(line)
            if match is None:
                continue
            reference = match["ref"]
            if reference.startswith("./"):
                continue
            count += 1
            assert _PINNED.match(reference), f"{path.name}:{number}: {reference} is not pinned to a full SHA"
            assert _VERSION_COMMENT.match(match["rest"]), f"{path.name}:{number}: no # vX.Y.Z comment"
            action, sha = reference.split("@")
            seen.setdefault(action, set()).add(f"{sha}{match['rest'].strip()}")
    assert count >= 10
    for action, pins in seen.items():
        assert len(pins) == 1, f"{action} is pinned to different commits: {pins}"


def test_every_job_has_a_timeout(workflows):
    for name, job_id, job in _all_jobs(workflows):
        if "uses" in job:  # a reusable-workflow call: its own jobs carry the timeouts
            continue
        assert isinstance(job.get("timeout-minutes"), int), f"{name}:{job_id}"
        assert 0 < job["timeout-minutes"] <= 90, f"{name}:{job_id}"


def test_checkouts_never_persist_the_token(workflows):
    for name, job_id, job in _all_jobs(workflows):
        for step in _steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{name}:{job_id}"


def test_no_expression_is_interpolated_into_a_shell(workflows):
    for name, job_id, job in _all_jobs(workflows):
        for step in _steps(job):
            assert "${{" not in step.get("run", ""), f"{name}:{job_id}: pass it through env instead"


def test_runners_and_toolchains_are_pinned_and_agree(workflows):
    versions: dict[str, set[str]] = {}
    for name, job_id, job in _all_jobs(workflows):
        if "runs-on" not in job:
            continue
        # The deploy job needs the private cluster API: it runs on the VPC's CodeBuild runner (infra/'s
        # deploy_runner_label, checked against the plan in tests/infra); every other job on one image.
        expected = DEPLOY_RUNNER_LABEL if (name, job_id) == ("deploy.yml", "deploy") else "ubuntu-24.04"
        assert job["runs-on"] == expected, f"{name}:{job_id}"
    for workflow in workflows.values():
        for key, value in workflow.get("env", {}).items():
            if key.endswith("_VERSION"):
                versions.setdefault(key, set()).add(str(value))
    assert {key: len(values) for key, values in versions.items()} == dict.fromkeys(versions, 1), versions
    assert {"PYTHON_VERSION", "NODE_VERSION", "TERRAFORM_VERSION", "KUBECTL_VERSION"} <= set(versions)
    assert all(re.fullmatch(r"v?\d+(\.\d+)*", value) for values in versions.values() for value in values)


def test_every_script_and_module_the_workflows_run_exists(workflows):
    referenced, modules = set(), set()
    for _, _, job in _all_jobs(workflows):
        for step in _steps(job):
            referenced.update(re.findall(r"\.github/scripts/[\w.]+", step.get("run", "")))
            modules.update(re.findall(r"-m (tools(?:\.\w+)+)", step.get("run", "")))
    assert referenced
    assert modules
    for script in referenced:
        path = REPO_ROOT / script
        assert path.is_file(), script
        assert os.access(path, os.X_OK), f"{script} is not executable"
    for module in modules:
        assert importlib.util.find_spec(module) is not None, f"python -m {module}: no such module"


# ---------------------------------------------------------------------------------------------- dependabot


def test_dependabot_watches_every_pinned_ecosystem():
    config = yaml.safe_load((GITHUB_DIR / "dependabot.yml").read_text(encoding="utf-8"))
    assert config["version"] == 2
    by_ecosystem: dict[str, list[str]] = {}
    for update in config["updates"]:
        directories = update.get("directories") or [update["directory"]]
        by_ecosystem.setdefault(update["package-ecosystem"], []).extend(directories)
        assert update["schedule"]["interval"] in {"daily", "weekly", "monthly"}
    assert by_ecosystem["github-actions"] == ["/"]
    assert by_ecosystem["uv"] == ["/"]
    assert by_ecosystem["docker"] == ["/"]
    assert {"/infra", "/infra/bootstrap"} <= set(by_ecosystem["terraform"])
    assert by_ecosystem["npm"] == ["/.github/linters"]
    for directory in by_ecosystem["terraform"]:
        if "*" not in directory:
            assert (REPO_ROOT / directory.lstrip("/") / ".terraform.lock.hcl").is_file(), directory


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("."))


def test_the_pinned_toolchains_fit_the_project(workflows):
    pins = {key: value for workflow in workflows.values() for key, value in workflow.get("env", {}).items()}
    requires_python = re.search(r'requires-python = ">=([\d.]+)"', (REPO_ROOT / "pyproject.toml").read_text())
    assert requires_python is not None
    assert _version(pins["PYTHON_VERSION"]) >= _version(requires_python[1])
    required_terraform = re.search(
        r'required_version = ">= ([\d.]+)"', (REPO_ROOT / "infra/versions.tf").read_text()
    )
    assert required_terraform is not None
    assert _version(pins["TERRAFORM_VERSION"]) >= _version(required_terraform[1])
    # kubectl supports one minor version of skew either way from the cluster it talks to
    cluster = re.search(
        r'variable "kubernetes_version" \{[^}]*default\s*=\s*"([\d.]+)"',
        (REPO_ROOT / "infra/variables.tf").read_text(),
    )
    assert cluster is not None
    assert abs(_version(pins["KUBECTL_VERSION"])[1] - _version(cluster[1])[1]) <= 1
