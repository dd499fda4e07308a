"""The README's capacity table is what `make capacity-plan` prints from the committed measurement."""

from __future__ import annotations

from tests.capacity.conftest import make_capacity_arguments
from tools.common import REPO_ROOT
from tools.load.capacity import main


def test_the_readme_table_is_the_plan_the_tool_prints(capsys):
    assert main(["--plan-only", *make_capacity_arguments()]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert len(table) > 2, "the plan printed no table"
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = readme.index(table[0])
    assert readme[start : start + len(table)] == table, "README's capacity table is stale: paste the plan"
