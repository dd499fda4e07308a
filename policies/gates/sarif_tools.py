"""The gates whose tool writes SARIF itself: hadolint on the Dockerfile, zizmor on the workflows.

A Dockerfile hadolint cannot parse (DL1000), or a workflow zizmor cannot load (each is named on its
command line, and --strict-collection fails the run on one it cannot load: empty, not a workflow, not
YAML) is an input the gate could not read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from policies.model import Evaluation, Finding, GateError, GateResult
from policies.workspace import Context
from tools.common import tail, write_json

HADOLINT = "hadolint"
ZIZMOR = "zizmor"


def _sarif(text: str, tool: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The tool's SARIF document and its results."""
    try:
        document = json.loads(text)
    except ValueError as error:
        msg = f"{tool} wrote no SARIF: {error}\n{tail(text)}"
        raise GateError(msg) from error
    if not isinstance(document, dict) or not document.get("runs"):
        msg = f"{tool}'s SARIF has no run"
        raise GateError(msg)
    return document, [result for run in document["runs"] for result in run.get("results", [])]


def _judged(
    context: Context, result: GateResult, document: dict[str, Any], failed: list[dict[str, Any]]
) -> GateResult:
    """`result` with the SARIF results that fail it; the tool's own SARIF is the gate's report."""
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for item in failed:
        rule = str(item.get("ruleId", "?"))
        physical = (item.get("locations") or [{}])[0].get("physicalLocation", {})
        by_rule[rule].append(
            Finding(
                message=item.get("message", {}).get("text", ""),
                path=physical.get("artifactLocation", {}).get("uri"),
                line=physical.get("region", {}).get("startLine"),
            )
        )
    write_json(context.reports / f"{result.name}.sarif", document)
    result.evaluations = [
        Evaluation(rule=rule, title=rule, checked=result.checked, findings=tuple(findings))
        for rule, findings in sorted(by_rule.items())
    ]
    return result


def run_hadolint(context: Context) -> GateResult:
    dockerfile = context.root.dockerfile
    if not dockerfile.is_file():
        msg = f"{context.root.relative(dockerfile)} does not exist"
        raise GateError(msg)
    run = context.tools.run(
        "hadolint", "--no-color", "--failure-threshold", "warning", "--format", "sarif", dockerfile.name,
        cwd=dockerfile.parent,
    )  # fmt: skip
    document, results = _sarif(run.stdout, "hadolint")
    unparsed = [item for item in results if item.get("ruleId") == "DL1000"]
    if unparsed:
        msg = f"hadolint could not parse the Dockerfile: {unparsed[0]['message']['text']}"
        raise GateError(msg)
    failed = [item for item in results if item.get("level", "warning") in {"error", "warning"}]
    result = _judged(context, GateResult(name=HADOLINT, unit="Dockerfile", checked=1), document, failed)
    if run.returncode != 0 and not result.findings:
        result.errors.append(
            f"hadolint failed (exit {run.returncode}) without a finding:\n{tail(run.stderr)}"
        )
    return result


def run_zizmor(context: Context) -> GateResult:
    github = context.root.github
    inputs = [*github.glob("workflows/*.y*ml"), *github.rglob("action.y*ml"), *github.glob("dependabot.y*ml")]
    expected = sorted(path.relative_to(github.parent).as_posix() for path in inputs)
    if not any(name.startswith(".github/workflows/") for name in expected):
        msg = f"no workflow in {context.root.relative(github)}/workflows"
        raise GateError(msg)
    # Given as files, each is reported by the path it was given: the repository's own, as code scanning
    # needs (given the folder, zizmor names them relative to it).
    run = context.tools.run(
        "zizmor", "--offline", "--strict-collection", "--no-progress", "--persona=pedantic",
        "--format", "sarif", *expected, cwd=github.parent,
    )  # fmt: skip
    # 0: clean; 10 to 14: findings, by their highest severity; anything else: zizmor itself failed.
    if run.returncode not in {0, 10, 11, 12, 13, 14}:
        msg = f"zizmor failed (exit {run.returncode}):\n{tail(run.stdout + run.stderr)}"
        raise GateError(msg)
    document, results = _sarif(run.stdout, "zizmor")
    return _judged(context, GateResult(name=ZIZMOR, unit="inputs", checked=len(expected)), document, results)
