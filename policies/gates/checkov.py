"""The checkov gate: built-in and custom (policies/checkov) checks in one pinned checkov run over infra/,
dist/, the Dockerfile and .github/, staged as the repository is laid out so every reported path is the
repository's own. A parse error, a framework that scanned nothing, a custom check that failed to load or
crashed fails the gate and names the cause (policies/README.md).
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
from policies.workspace import CHECKOV_CHECKS_DIR, Context, Root
from tools.common import tail

NAME = "checkov"
SOURCE_FRAMEWORKS = ("terraform", "kubernetes", "dockerfile", "github_actions")
_CUSTOM_ID = re.compile(r'"(CKV_PRED_[A-Z0-9_]+)"')
_CRASHED = re.compile(r"Failed to run check (\S+) on (\S+)")
# A Python check that does not import, a YAML check that does not parse or lacks a field (checkov warns).
_NOT_LOADED = re.compile(r"(?:Cannot load external check|Failed to parse check id|Custom policy) '?([^' ]+)")
# Never copied into a scan: Terraform's working data, caches and bytecode.
_NOT_SCANNED = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", "__pycache__", ".mypy_cache", "*.pyc"
)


def custom_check_ids() -> list[str]:
    checks = [*CHECKOV_CHECKS_DIR.glob("*.py"), *CHECKOV_CHECKS_DIR.glob("*.yaml")]
    return sorted(
        {found for check in checks for found in _CUSTOM_ID.findall(check.read_text(encoding="utf-8"))}
    )


def _stage(root: Root, target: Path) -> Path:
    """Copy what checkov scans into `target`, laid out as in the repository, so reported paths are the
    repository's own (infra/main.tf, dist/prod/...) and nothing else (virtualenvs, build output) is read."""
    target.mkdir(parents=True)
    for directory in (root.infra, root.dist, root.github):
        if directory.is_dir():
            shutil.copytree(directory, target / directory.name, ignore=_NOT_SCANNED)
    if root.dockerfile.is_file():
        shutil.copy2(root.dockerfile, target / root.dockerfile.name)
    return target


def _checkov(context: Context, out: Path) -> list[dict[str, Any]]:
    if not (CHECKOV_CHECKS_DIR / "__init__.py").is_file():
        msg = (
            f"{CHECKOV_CHECKS_DIR}/__init__.py is missing: checkov silently loads no custom check without it"
        )
        raise GateError(msg)
    result = context.tools.run(
        "checkov", "--directory", ".", "--framework", *SOURCE_FRAMEWORKS,
        "--external-checks-dir", str(CHECKOV_CHECKS_DIR), "--skip-download",
        "--output", "json", "--output", "sarif", "--output-file-path", str(out),
        cwd=_stage(context.root, context.work / "checkov-scan"),
        # One process: with checkov's parallel runners a crashed check leaves the parent waiting forever;
        # in-process it exits 2 at once (and a run here is no slower).
        env={"LOG_LEVEL": "WARNING", "ANSI_COLORS_DISABLED": "1", "CHECKOV_PARALLELIZATION_TYPE": "none"},
    )  # fmt: skip
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
        document = json.loads(report_file.read_text(encoding="utf-8"))
    except ValueError as error:
        msg = f"checkov's report is not JSON: {error}"
        raise GateError(msg) from error
    # One report per framework: a list, or the report itself when only one framework read anything.
    reports = document if isinstance(document, list) else [document]
    return [report for report in reports if isinstance(report, dict) and "check_type" in report]


def _evaluations(reports: list[dict[str, Any]]) -> tuple[list[Evaluation], dict[str, int], list[str]]:
    """Evaluations by check ID, checks evaluated per framework, and parse errors."""
    checked: dict[str, int] = {}
    titles: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    failed: dict[str, list[Finding]] = defaultdict(list)
    parse_errors: list[str] = []
    for report in reports:
        results, framework = report.get("results", {}), report["check_type"]
        # The paths that did not parse, or only their count when checkov lists none.
        count = report.get("summary", {}).get("parsing_errors")
        unparsed = results.get("parsing_errors") or ([f"{count} files"] if count else [])
        parse_errors += [f"{framework}: {path}" for path in unparsed]
        passed, failures = results.get("passed_checks", []), results.get("failed_checks", [])
        checked[framework] = len(passed) + len(failures)
        for check in [*passed, *failures]:
            titles[check["check_id"]] = check.get("check_name", "")
            counts[check["check_id"]] += 1
        for check in failures:
            rule = check["check_id"]
            failed[rule].append(
                Finding(
                    message=f"{check.get('resource')}: {titles[rule]}",
                    path=(check.get("file_path") or "").lstrip("/") or None,
                    line=(check.get("file_line_range") or [None])[0],
                )
            )
    evaluations = [
        Evaluation(rule=rule, title=titles[rule], checked=counts[rule], findings=tuple(failed[rule]))
        for rule in sorted(counts)
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
    out = context.work / "checkov-out"
    try:
        reports = _checkov(context, out)
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
    if (out / "results_sarif.sarif").is_file():
        shutil.copy2(out / "results_sarif.sarif", context.reports / f"{NAME}.sarif")
    return result
