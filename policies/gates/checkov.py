"""The checkov gate: built-in and custom (policies/checkov) checks in one pinned checkov run.

The Terraform source (infra/), the manifests (dist/), the Dockerfile and the workflows (.github/) are
staged into one directory laid out as the repository, so every reported path is the repository's own.
Built-in checks plus every custom check; the inline skips in infra/ and dist/ apply. This project's own
Terraform rules are terraform-compliance's (policies/terraform), not checkov's.

A parse error, a framework that scanned nothing, a custom check that failed to load or crashed (checkov
then exits 2 without a report) fails the gate and names the cause.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from policies.model import Evaluation, Finding, GateError, GateResult
from policies.workspace import CHECKOV_CHECKS_DIR, Context, Root, stage
from tools.common import tail

NAME = "checkov"
SOURCE_FRAMEWORKS = ("terraform", "kubernetes", "dockerfile", "github_actions")
_CUSTOM_ID = re.compile(r'"(CKV_PRED_[A-Z0-9_]+)"')
_CRASHED = re.compile(r"Failed to run check (\S+) on (\S+)")
_NOT_LOADED = re.compile(r"Cannot load external check '([^']+)'")


def custom_check_ids() -> list[str]:
    ids: set[str] = set()
    for module in CHECKOV_CHECKS_DIR.glob("*.py"):
        ids.update(_CUSTOM_ID.findall(module.read_text(encoding="utf-8")))
    return sorted(ids)


def _reports(document: object) -> list[dict[str, Any]]:
    reports = document if isinstance(document, list) else [document]
    return [report for report in reports if isinstance(report, dict) and "check_type" in report]


def _checkov(context: Context, cwd: Path, out: Path, *args: str) -> list[dict[str, Any]]:
    if not (CHECKOV_CHECKS_DIR / "__init__.py").is_file():
        msg = (
            f"{CHECKOV_CHECKS_DIR}/__init__.py is missing: checkov silently loads no custom check without it"
        )
        raise GateError(msg)
    shutil.rmtree(out, ignore_errors=True)
    result = context.tools.run(
        "checkov",
        *args,
        "--external-checks-dir",
        str(CHECKOV_CHECKS_DIR),
        "--skip-download",
        "--output",
        "json",
        "--output",
        "sarif",
        "--output-file-path",
        str(out),
        cwd=cwd,
        # One process: with checkov's parallel runners a crashed check leaves the parent waiting forever;
        # in-process it exits 2 at once (and a run here is no slower).
        env={"LOG_LEVEL": "WARNING", "ANSI_COLORS_DISABLED": "1", "CHECKOV_PARALLELIZATION_TYPE": "none"},
    )
    problems = [
        f"custom check {check} crashed on {where}" for check, where in _CRASHED.findall(result.stderr)
    ] + [f"custom check {name} could not be loaded" for name in _NOT_LOADED.findall(result.stderr)]
    if problems:
        raise GateError("; ".join(dict.fromkeys(problems)) + f"\n{tail(result.stderr)}")
    report_file = out / "results_json.json"
    if result.returncode not in {0, 1} or not report_file.is_file():
        msg = f"checkov did not finish (exit {result.returncode}):\n{tail(result.stdout + result.stderr)}"
        raise GateError(msg)
    try:
        return _reports(json.loads(report_file.read_text(encoding="utf-8")))
    except ValueError as error:
        msg = f"checkov's report is not JSON: {error}"
        raise GateError(msg) from error


def _evaluations(reports: list[dict[str, Any]]) -> tuple[list[Evaluation], dict[str, int], list[str]]:
    """Evaluations by check ID, checks evaluated per framework, and parse errors."""
    checked: dict[str, int] = {}
    by_id: dict[str, dict[str, Any]] = defaultdict(lambda: {"title": "", "checked": 0, "findings": []})
    parse_errors: list[str] = []
    for report in reports:
        results = report.get("results", {})
        framework = report["check_type"]
        parse_errors += [f"{framework}: {path}" for path in results.get("parsing_errors", [])]
        parse_errors += (
            [f"{framework}: {report['summary']['parsing_errors']} files"]
            if (report.get("summary", {}).get("parsing_errors") and not results.get("parsing_errors"))
            else []
        )
        checked[framework] = len(results.get("passed_checks", [])) + len(results.get("failed_checks", []))
        for outcome in ("passed_checks", "failed_checks"):
            for check in results.get(outcome, []):
                entry = by_id[check["check_id"]]
                entry["title"] = check.get("check_name", "")
                entry["checked"] += 1
                if outcome == "failed_checks":
                    path, line = (
                        (check.get("file_path") or "").lstrip("/") or None,
                        (check.get("file_line_range") or [None])[0],
                    )
                    entry["findings"].append(
                        Finding(
                            rule=check["check_id"],
                            title=entry["title"],
                            message=f"{check.get('resource')}: {entry['title']}",
                            path=path,
                            line=line,
                        )
                    )
    evaluations = [
        Evaluation(
            rule=rule, title=entry["title"], checked=entry["checked"], findings=tuple(entry["findings"])
        )
        for rule, entry in sorted(by_id.items())
    ]
    return evaluations, checked, parse_errors


def _unreadable_yaml(root: Root) -> list[str]:
    """checkov's Kubernetes and workflow parsers skip a YAML file they cannot read without a word (its
    report says zero parsing errors): read each one first, so that such a file fails the gate."""
    problems = []
    files = [*root.dist.rglob("*.y*ml"), *root.github.rglob("*.y*ml")]
    for path in sorted(p for p in files if p.is_file()):
        try:
            list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            problems.append(
                f"checkov could not parse {root.relative(path)} (it would skip it silently): {error}"
            )
    return problems


def run(context: Context) -> GateResult:
    result = GateResult(name=NAME)
    result.errors += _unreadable_yaml(context.root)
    try:
        scan = stage(context.root, context.work / "checkov-scan")
        out = context.work / "checkov-out"
        reports = _checkov(context, scan, out, "--directory", ".", "--framework", *SOURCE_FRAMEWORKS)
    except GateError as error:
        result.errors.append(str(error))
        return result
    evaluations, checked, parse_errors = _evaluations(reports)
    result.errors += [f"checkov could not parse {error}" for error in parse_errors]
    for framework in SOURCE_FRAMEWORKS:
        if not checked.get(framework):
            result.errors.append(f"checkov's {framework} checks evaluated nothing: no input was read")
    result.evaluations = evaluations
    result.checked = sum(checked.values())
    result.notes.append(", ".join(f"{framework} {count}" for framework, count in sorted(checked.items())))
    evaluated = {e.rule for e in evaluations}
    idle = [check for check in custom_check_ids() if check not in evaluated]
    if idle:
        result.notes.append(f"custom checks with nothing of their kind to judge here: {', '.join(idle)}")
    sarif = out / "results_sarif.sarif"
    if sarif.is_file():
        target = context.reports / "checkov.sarif"
        shutil.copy2(sarif, target)
        result.native_sarif.append(target)
    return result
