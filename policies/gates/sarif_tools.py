"""The gates whose tool writes SARIF itself: hadolint on the Dockerfile, zizmor on the workflows.

- hadolint (HADOLINT_VERSION): a finding at warning level or above fails; DL1000 (the Dockerfile does
  not parse) is an input the gate could not read.
- zizmor (ZIZMOR_VERSION; `make workflows-check` runs this gate too): offline, strict
  collection (a workflow that does not parse is an error), pedantic persona; every finding fails. Every
  workflow must appear among the inputs zizmor reports as audited.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from policies.model import Evaluation, Finding, GateError, GateResult
from policies.workspace import Context
from tools.common import tail, write_json

HADOLINT = "hadolint"
ZIZMOR = "zizmor"
_FAILING_LEVELS = {"error", "warning"}
_COMPLETED = re.compile(r"completed (\S+)")


def _sarif(text: str, tool: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as error:
        msg = f"{tool} wrote no SARIF: {error}\n{tail(text)}"
        raise GateError(msg) from error
    if not isinstance(document, dict) or not document.get("runs"):
        msg = f"{tool}'s SARIF has no run"
        raise GateError(msg)
    return document


def _results(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [result for run in document["runs"] for result in run.get("results", [])]


def _location(result: dict[str, Any]) -> tuple[str | None, int | None]:
    try:
        physical = result["locations"][0]["physicalLocation"]
    except (KeyError, IndexError):
        return None, None
    return physical.get("artifactLocation", {}).get("uri"), physical.get("region", {}).get("startLine")


def _evaluations(results: list[dict[str, Any]], checked: int, failing: set[str] | None) -> list[Evaluation]:
    by_rule: dict[str, list[Finding]] = {}
    for result in results:
        if failing is not None and result.get("level", "warning") not in failing:
            continue
        path, line = _location(result)
        rule = str(result.get("ruleId", "?"))
        by_rule.setdefault(rule, []).append(
            Finding(
                rule=rule, title=rule, message=result.get("message", {}).get("text", ""), path=path, line=line
            )
        )
    return [
        Evaluation(rule=rule, title=rule, checked=checked, findings=tuple(findings))
        for rule, findings in sorted(by_rule.items())
    ]


def run_hadolint(context: Context) -> GateResult:
    result = GateResult(name=HADOLINT, unit="Dockerfile")
    dockerfile = context.root.dockerfile
    if not dockerfile.is_file():
        result.errors.append(f"{context.root.relative(dockerfile)} does not exist")
        return result
    try:
        run = context.tools.run(
            "hadolint", "--no-color", "--failure-threshold", "warning", "--format", "sarif", dockerfile.name,
            cwd=dockerfile.parent,
        )  # fmt: skip
        document = _sarif(run.stdout, "hadolint")
    except GateError as error:
        result.errors.append(str(error))
        return result
    results = _results(document)
    unparsed = [r for r in results if r.get("ruleId") == "DL1000"]
    if unparsed:
        result.errors.append(f"hadolint could not parse the Dockerfile: {unparsed[0]['message']['text']}")
        return result
    result.checked = 1
    result.evaluations = _evaluations(results, 1, _FAILING_LEVELS)
    if run.returncode != 0 and not result.findings:
        result.errors.append(
            f"hadolint failed (exit {run.returncode}) without a finding:\n{tail(run.stderr)}"
        )
    _write(context, "hadolint.sarif", document, result)
    return result


def _expected_inputs(github: Path) -> list[str]:
    names = sorted(github.glob("workflows/*.y*ml"))
    names += sorted(github.rglob("action.y*ml"))
    names += [p for p in (github / "dependabot.yml", github / "dependabot.yaml") if p.is_file()]
    return [p.relative_to(github.parent).as_posix() for p in names]


def run_zizmor(context: Context) -> GateResult:
    result = GateResult(name=ZIZMOR, unit="inputs")
    github = context.root.github
    expected = _expected_inputs(github)
    if not any(name.startswith(".github/workflows/") for name in expected):
        result.errors.append(f"no workflow in {context.root.relative(github)}/workflows")
        return result
    try:
        run = context.tools.run(
            "zizmor", "--offline", "--strict-collection", "--no-progress", "--persona=pedantic",
            "--format", "sarif", github.name, cwd=github.parent,
        )  # fmt: skip
    except GateError as error:
        result.errors.append(str(error))
        return result
    # 0: clean; 10 to 14: findings, by their highest severity; anything else: zizmor itself failed.
    if run.returncode not in {0, 10, 11, 12, 13, 14}:
        result.errors.append(f"zizmor failed (exit {run.returncode}):\n{tail(run.stdout + run.stderr)}")
        return result
    try:
        document = _sarif(run.stdout, "zizmor")
    except GateError as error:
        result.errors.append(str(error))
        return result
    audited = set(_COMPLETED.findall(run.stderr))
    missing = [name for name in expected if name not in audited]
    if missing:
        result.errors.append(f"zizmor did not audit {', '.join(missing)}")
    # zizmor names files relative to the directory it was given; code scanning needs repository paths.
    for item in _results(document):
        for location in item.get("locations", []):
            artifact = location.get("physicalLocation", {}).get("artifactLocation", {})
            uri = artifact.get("uri")
            if isinstance(uri, str) and not uri.startswith(f"{github.name}/"):
                artifact["uri"] = f"{github.name}/{uri}"
    result.checked = len(audited)
    result.evaluations = _evaluations(_results(document), len(audited), None)
    _write(context, "zizmor.sarif", document, result)
    return result


def _write(context: Context, name: str, document: dict[str, Any], result: GateResult) -> None:
    target = context.reports / name
    write_json(target, document)
    result.native_sarif.append(target)
