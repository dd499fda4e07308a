"""The README's standing-up section, the workflows, infra/ and the bootstrap command agree. Every
variable a workflow reads is in the section's table, every row is read by a workflow, and every value the
table takes from infra/ is an output (or, for what you choose, a variable) infra/ really has; every output
make cluster-bootstrap reads is one infra/ declares."""

from __future__ import annotations

import re

import pytest

from tools.cluster_bootstrap import releases
from tools.common import REPO_ROOT

SECTION = "### Standing it up"


def _readme_section(readme: str) -> str:
    start = readme.index(SECTION)
    end = readme.find("\n#", start + len(SECTION))
    return readme[start : end if end != -1 else None]


def _workflow_variables() -> set[str]:
    texts = (path.read_text(encoding="utf-8") for path in (REPO_ROOT / ".github" / "workflows").glob("*.yml"))
    return {name for text in texts for name in re.findall(r"\bvars\.([A-Z][A-Z0-9_]*)", text)}


def _terraform_names(kind: str, file: str) -> set[str]:
    return set(re.findall(rf'^{kind} "([a-z0-9_]+)"', (REPO_ROOT / "infra" / file).read_text(), re.MULTILINE))


def _terraform_outputs() -> set[str]:
    return _terraform_names("output", "outputs.tf")


def check_variables(section: str, read_by_workflows: set[str], outputs: set[str]) -> None:
    chosen = _terraform_names("variable", "variables.tf")
    rows = re.findall(r"^\s*\| `([A-Z][A-Z0-9_]*)` \| ([^|]+) \|", section, re.MULTILINE)
    documented = {name for name, _ in rows}
    assert read_by_workflows <= documented, (
        f"read by a workflow, not in the README: {read_by_workflows - documented}"
    )
    assert documented <= read_by_workflows, (
        f"in the README, read by no workflow: {documented - read_by_workflows}"
    )
    for name, value in rows:
        for output in re.findall(r"`([a-z][a-z0-9_]*)`", value):
            assert output in outputs | chosen, (
                f"{name}: `{output}` is neither an output nor a variable of infra/"
            )
    for output in re.findall(r"terraform output -raw ([a-z0-9_]+)", section):
        assert output in outputs, f"`terraform output -raw {output}` is not an output of infra/"


@pytest.fixture(scope="module")
def section() -> str:
    return _readme_section((REPO_ROOT / "README.md").read_text(encoding="utf-8"))


def test_the_readme_workflows_and_terraform_agree_on_the_repository_variables(section):
    read = _workflow_variables()
    assert {"AWS_DEPLOY_ROLE_ARN", "DEPLOY_RUNNER_PROJECT"} <= read, "the workflows' variables were not read"
    check_variables(section, read, _terraform_outputs())


@pytest.mark.parametrize(
    ("change_section", "change_read", "change_outputs"),
    [
        (lambda s: s, lambda r: r | {"NEW_VARIABLE"}, lambda o: o),
        (lambda s: s, lambda r: r - {"DEPLOY_RUNNER_PROJECT"}, lambda o: o),
        (lambda s: s, lambda r: r, lambda o: o - {"deploy_runner_project"}),
        (lambda s: s.replace("`plan_role_arn`", "`plan_role`"), lambda r: r, lambda o: o),
    ],
    ids=["undocumented-variable", "variable-nobody-reads", "output-gone", "misnamed-output"],
)
def test_the_variables_check_fails_when_one_side_drifts(section, change_section, change_read, change_outputs):
    with pytest.raises(AssertionError):
        check_variables(
            change_section(section), change_read(_workflow_variables()), change_outputs(_terraform_outputs())
        )


class _Placeholder(str):
    """Any output's value: indexing it (a service account's namespace, name) gives itself."""

    __slots__ = ()

    def __getitem__(self, key: object) -> _Placeholder:
        del key
        return self


def check_bootstrap_reads_declared_outputs(outputs: set[str]) -> None:
    try:
        releases({name: _Placeholder(name) for name in outputs})
    except KeyError as error:
        pytest.fail(f"make cluster-bootstrap reads {error.args[0]}, which infra/ does not output")


def test_the_bootstrap_command_reads_only_outputs_infra_declares():
    check_bootstrap_reads_declared_outputs(_terraform_outputs())


@pytest.mark.parametrize(
    "dropped", ["vpc_id", "karpenter_controller_service_account", "karpenter_interruption_queue_name"]
)
def test_the_bootstrap_outputs_check_fails_when_an_output_is_gone(dropped):
    with pytest.raises(pytest.fail.Exception):
        check_bootstrap_reads_declared_outputs(_terraform_outputs() - {dropped})
