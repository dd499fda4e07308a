"""The terraform-compliance gate: policies/terraform/*.feature on the plan, scenario by scenario.

Reads radish's cucumber JSON for each scenario's outcome and the console for each failure's message
(the JSON does not carry it).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from policies import features, plan_facts
from policies.model import Evaluation, Finding, GateError, GateResult
from policies.workspace import FEATURES_DIR, Context
from tools.common import tail, write_atomic

NAME = "terraform-compliance"
_SCENARIO = re.compile(r"^\s*Scenario( Outline)?: (.+?)\s*$")
_ROW = re.compile(r"^\s*\|(.+)\|\s*$")
_FAILURE = re.compile(r"^\s*Failure: (.*\S)\s*$")
_ROW_SUFFIX = re.compile(r"^(.*) - row (\d+)$")
_MESSAGE_LIMIT = 600
# terraform-compliance repeats some failures with an empty address ("... property of ."): noise.
_LEGACY_DUPLICATE = re.compile(r" of \.$")
# The resource a failure message names, and the Terraform blocks that declare resources.
_ADDRESS = re.compile(
    r"((?:module\.[A-Za-z0-9_-]+(?:\[[^\]\s]*\])?\.)*(?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)"
)
_DECLARATION = re.compile(r'^\s*(resource|data)\s+"([^"]+)"\s+"([^"]+)"')


@dataclass
class _Scenario:
    outline: bool
    rows: list[str] = field(default_factory=list)
    failures: dict[int | None, list[str]] = field(default_factory=lambda: defaultdict(list))


def _console(text: str) -> dict[str, _Scenario]:
    """Each scenario's failure messages, by example row for outlines (a row's messages precede it)."""
    scenarios: dict[str, _Scenario] = {}
    current: _Scenario | None = None
    pending: list[str] = []
    seen_header = False
    for raw in text.splitlines():
        scenario = _SCENARIO.match(raw)
        if scenario:
            if current is not None:
                current.failures[None].extend(pending)
            pending, seen_header = [], False
            current = scenarios.setdefault(scenario.group(2), _Scenario(bool(scenario.group(1))))
        elif current is not None and (failure := _FAILURE.match(raw)):
            if not _LEGACY_DUPLICATE.search(failure.group(1)):
                pending.append(failure.group(1)[:_MESSAGE_LIMIT])
        elif current is not None and current.outline and (row := _ROW.match(raw)):
            if seen_header:
                current.rows.append(", ".join(cell.strip() for cell in row.group(1).split("|")))
                current.failures[len(current.rows) - 1].extend(pending)
                pending = []
            seen_header = True
    if current is not None:
        current.failures[None].extend(pending)
    return scenarios


def _cases(report: Path) -> list[tuple[str, str, tuple[str, int]]]:
    """(scenario name, outcome, feature file and line) from radish's cucumber JSON; outcome is passed,
    failed or skipped. (radish's JUnit writer crashes on a feature whose scenarios were all skipped.)"""
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        msg = f"terraform-compliance wrote no readable results ({report.name}): {error}"
        raise GateError(msg) from error
    cases = []
    for feature in document:
        where = f"policies/terraform/{Path(str(feature.get('uri'))).name}"
        for element in feature.get("elements", []):
            statuses = {step.get("result", {}).get("status") for step in element.get("steps", [])}
            outcome = "failed" if "failed" in statuses else "skipped" if statuses - {"passed"} else "passed"
            cases.append((str(element.get("name", "?")), outcome, (where, element.get("line"))))
    return cases


@cache
def _declarations(directory: Path) -> dict[tuple[str, str], tuple[Path, int]]:
    found: dict[tuple[str, str], tuple[Path, int]] = {}
    for tf in sorted(directory.glob("*.tf")):
        for number, line in enumerate(tf.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if match := _DECLARATION.match(line):
                kind, type_, name = match.groups()
                found[(type_ if kind == "resource" else f"data.{type_}", name)] = (tf, number)
    return found


def _declaration(context: Context, message: str) -> tuple[str, int] | None:
    """(path relative to the root, line) of the block declaring the resource a message names, or None."""
    match = _ADDRESS.search(message)
    if not match or context.plan is None:
        return None
    calls, rest = plan_facts.split_address(match.group(1))
    key = (f"data.{rest[1]}", rest[2]) if rest[0] == "data" else (rest[0], rest[1])
    directory = context.root.path / plan_facts.module(context.plan.get("configuration", {}), calls)[1]
    found = _declarations(directory.resolve()).get(key)
    return (context.root.relative(found[0]), found[1]) if found else None


def _run(context: Context, plan: dict[str, object]) -> tuple[list[Evaluation], int]:
    """(evaluations of the scenarios run, count skipped) of the terraform-compliance run on the plan."""
    work = context.work / NAME
    # terraform-compliance reads a plan's first line only and rewrites its input file: it gets a one-line
    # copy, so a pretty-printed plan is read whole and the judged file is left as it was.
    compact = write_atomic(work / "plan-one-line.json", json.dumps(plan, separators=(",", ":")))
    report = work / "radish-cucumber.json"
    result = context.tools.run(
        "terraform-compliance", "--planfile", str(compact), "--features", str(FEATURES_DIR),
        f"--cucumber-json={report}", cwd=work, env={"NO_COLOR": "1", "TERM": "dumb"},
    )  # fmt: skip
    # The console, as CI's plan job attaches it (Makefile: COMPLIANCE_REPORT).
    write_atomic(context.reports / f"{NAME}-root.txt", result.stdout + result.stderr)
    if result.returncode not in {0, 1} or not report.is_file():
        output = tail(result.stdout + result.stderr)
        msg = f"terraform-compliance did not finish (exit {result.returncode}):\n{output}"
        raise GateError(msg)
    console = _console(result.stdout)
    evaluations: list[Evaluation] = []
    skipped = 0
    for name, outcome, written in _cases(report):
        row_match = _ROW_SUFFIX.match(name)
        scenario_name, row = (row_match.group(1), int(row_match.group(2))) if row_match else (name, None)
        scenario = console.get(scenario_name)
        title = scenario_name
        if scenario is not None and row is not None and row < len(scenario.rows):
            title = f"{scenario_name} [{scenario.rows[row]}]"
        if outcome == "skipped":
            skipped += 1
            continue
        findings = []
        if outcome == "failed":
            messages = (scenario.failures.get(row) if scenario else None) or ["failed (see the report)"]
            for message in dict.fromkeys(messages):
                # Placed on the declaration of the resource the message names, else on the scenario.
                path, line = _declaration(context, message) or written
                findings.append(Finding(message=message, path=path, line=line))
        evaluations.append(Evaluation(rule=title, title=title, checked=1, findings=tuple(findings)))
    return evaluations, skipped


def run(context: Context) -> GateResult:
    result = GateResult(name=NAME, unit="scenarios")
    try:
        stale = features.stale(context.root.service_card)
    except (OSError, ValueError) as error:
        msg = f"cannot read the service card {context.root.relative(context.root.service_card)}: {error}"
        raise GateError(msg) from error
    if stale:
        name = features.GENERATED.name
        result.errors.append(
            f"policies/terraform/{name} is stale against the service card: run `make policy-features`"
        )
    if context.plan is None:
        result.errors.append("no plan to judge: the plan gate did not produce one")
        return result
    try:
        evaluations, skipped = _run(context, context.plan)
    except GateError as error:
        result.errors.append(str(error))
        return result
    result.evaluations.extend(evaluations)
    result.checked += len(evaluations)
    if skipped:
        result.notes.append(f"{skipped} scenarios skipped: nothing of their kind in the plan (not @noskip)")
    return result
