"""Running `make policy` the way CI does, on this checkout, on copies of it, and on planned fixtures.

Every test goes through the make target, so the gates run with the Makefile's pins and exactly the code
path of `make policy`; results are read back from the JUnit report the run writes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from policies.workspace import FEATURES_DIR
from tools.common import REPO_ROOT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MAKE_TIMEOUT_SECONDS = 900
# What a judged root is made of (policies/workspace.py reads these).
ROOT_PARTS = ("infra", "dist", ".github", "Dockerfile", "api/service.json", "manifests_py/crd_schemas")
_IGNORED = shutil.ignore_patterns(".terraform", "*.tfstate*", "__pycache__", ".mypy_cache", "*.pyc")


def _rule(case_name: str) -> str:
    """A checkov, hadolint or zizmor case is named "<ID> <title>"; a scenario by its name."""
    return case_name.split(" ", maxsplit=1)[0] if re.match(r"^[A-Z]+[A-Z0-9_]*\d ", case_name) else case_name


@dataclass(frozen=True)
class PolicyRun:
    returncode: int
    output: str
    reports: Path

    def _suite(self, gate: str) -> ET.Element:
        junit = self.reports / "junit.xml"
        assert junit.is_file(), f"no JUnit report (exit {self.returncode}):\n{self.output[-3000:]}"
        for suite in ET.parse(junit).getroot().iter("testsuite"):  # noqa: S314 -- our own report
            if suite.get("name") == gate:
                return suite
        pytest.fail(f"gate {gate} did not run:\n{self.output[-3000:]}", pytrace=False)

    def failures(self, gate: str) -> dict[str, str]:
        """Test case name -> failure text, for the cases that failed."""
        return {
            case.get("name", ""): case.find("failure").text or ""  # type: ignore[union-attr]
            for case in self._suite(gate).iter("testcase")
            if case.find("failure") is not None
        }

    def passed(self, gate: str) -> set[str]:
        return {
            case.get("name", "")
            for case in self._suite(gate).iter("testcase")
            if case.find("failure") is None and case.find("error") is None
        }

    def errors(self, gate: str) -> list[str]:
        return [
            case.find("error").text or ""  # type: ignore[union-attr]
            for case in self._suite(gate).iter("testcase")
            if case.find("error") is not None
        ]

    def findings(self, gate: str) -> list[tuple[str, str]]:
        """(rule ID or scenario name, failure text) of every failed case, repeats kept: one rule can
        fail in several files."""
        return [
            (_rule(case.get("name", "")), case.find("failure").text or "")  # type: ignore[union-attr]
            for case in self._suite(gate).iter("testcase")
            if case.find("failure") is not None
        ]

    def rules_failed(self, gate: str) -> set[str]:
        """The rule IDs (checkov, hadolint, zizmor) or scenario names that failed."""
        return {rule for rule, _text in self.findings(gate)}

    def summary_row(self, gate: str) -> list[str]:
        for line in self.output.splitlines():
            cells = line.replace("|", " ").split()  # the summary is a Markdown table
            if cells and cells[0] == gate:
                return cells
        pytest.fail(f"no summary row for {gate}:\n{self.output[-3000:]}", pytrace=False)


def run_policy(
    reports: Path,
    *,
    root: Path | None = None,
    gates: str = "all",
    plan: Path | None = None,
    env: dict | None = None,
) -> PolicyRun:
    variables = [f"POLICY_REPORTS={reports}", f"POLICY_GATES={gates}"]
    if root is not None:
        variables.append(f"POLICY_ROOT={root}")
    if plan is not None:
        variables.append(f"POLICY_PLAN={plan}")
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), "policy", *variables],
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT_SECONDS,
        check=False,
        env=env,
    )
    return PolicyRun(result.returncode, result.stdout + result.stderr, reports)


def run_plan_compliance(plan: Path | None, reports: Path) -> PolicyRun:
    """`make plan-compliance`, CI's plan job; its console report goes beside `reports`."""
    variables = [
        f"COMPLIANCE_REPORTS={reports}",
        f"COMPLIANCE_REPORT={reports.parent / f'{reports.name}-compliance.txt'}",
        *([f"PLAN_JSON={plan}"] if plan is not None else []),
    ]
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), "plan-compliance", *variables],
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT_SECONDS,
        check=False,
    )
    return PolicyRun(result.returncode, result.stdout + result.stderr, reports)


def copy_root(target: Path) -> Path:
    """A copy of what the gates judge in this checkout, laid out as the repository."""
    for part in ROOT_PARTS:
        source = REPO_ROOT / part
        destination = target / part
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=_IGNORED)
        else:
            shutil.copy2(source, destination)
    return target


def scenario_names(tag: str | None = None) -> list[str]:
    """Scenario (and outline) names in the features, optionally only those carrying a tag."""
    names = []
    for feature in sorted(FEATURES_DIR.glob("*.feature")):
        lines = feature.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            match = re.match(r"^\s*Scenario(?: Outline)?: (.+?)\s*$", line)
            if match and (tag is None or lines[index - 1].strip() == tag):
                names.append(match.group(1))
    return names


@pytest.fixture(scope="session")
def uv() -> Path:
    path = REPO_ROOT / ".tools" / "bin" / "uv"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make bootstrap`", pytrace=False)
    return path
