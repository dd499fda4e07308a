"""`make workflows-check`: clean on the repository, and failing, naming the problem, on broken copies.

The checkers (zizmor offline through its policy gate, check-jsonschema's bundled schemas, action-validator,
shellcheck) are pinned in the Makefile; the first run installs them (uv's tool cache, `npm ci` into
.tools/), later runs are offline.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.workflows.conftest import GITHUB_DIR, REPO_ROOT

pytestmark = pytest.mark.slow

CHECKOUT = "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0"


def _workflows_check(github_dir: Path, reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(REPO_ROOT),
            "workflows-check",
            f"WORKFLOWS_DIR={github_dir}",
            f"WORKFLOWS_REPORTS={reports}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_repository_workflows_are_clean(tmp_path):
    result = _workflows_check(GITHUB_DIR, tmp_path / "reports")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^\| zizmor +\| 4 inputs +\| 0 +\| [\d.]+ +\| pass +\|$", output, re.MULTILINE), output
    assert output.count("ok -- validation done") == 2
    assert "3 workflows and dependabot.yml are clean" in output


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}: the mutation no longer applies"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("workflows/deploy.yml", CHECKOUT, "actions/checkout@v5", "unpinned-uses"),
        (
            "workflows/ci.yml",
            "run: .github/scripts/plan_needed.sh",
            'run: echo "${{ github.event.pull_request.title }}"',
            "template-injection",
        ),
        ("workflows/checks.yml", "permissions: {}", "permissions: write-all", "excessive-permissions"),
        (
            "workflows/checks.yml",
            "        with:\n          persist-credentials: false\n",
            "",
            "artipacked",
        ),
        ("workflows/deploy.yml", "timeout-minutes: 60", "timeout-minutes: an hour", "timeout-minutes"),
        ("dependabot.yml", "package-ecosystem: uv", "package-ecosystem: pipx", "package-ecosystem"),
        ("workflows/ci.yml", "jobs:\n", "jobs:\n  - not a mapping\n", "ci.yml"),
        ("scripts/plan_needed.sh", 'echo "plan=${plan}"', "echo plan=$plan; cd $HOME", "SC2086"),
    ],
    ids=[
        "unpinned action",
        "template injection",
        "write-all",
        "persisted credentials",
        "schema",
        "dependabot schema",
        "broken structure",
        "shellcheck",
    ],
)
def test_a_broken_copy_fails_and_names_the_problem(tmp_path, file, old, new, expected):
    copy = tmp_path / ".github"
    shutil.copytree(GITHUB_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    _replace(copy / file, old, new)

    result = _workflows_check(copy, tmp_path / "reports")

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert expected in output, output
