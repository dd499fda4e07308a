"""Summarize a terraform plan for reviewers: counts, every resource change, the compliance verdict.

Reads ``terraform show -json`` output and writes Markdown; the workflow appends it to the job summary and
puts it on the pull request with gh's own ``pr comment --edit-last --create-if-none``, so later runs edit
one comment. Standard library only: it runs before any project environment.

Exit status: 0 written; 2 unreadable plan or bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tools.common import strip_ansi, write_atomic

# GitHub refuses comments over 65,536 characters; the plan table and the report tail share what is left.
_MAX_ROWS = 150
_MAX_REPORT_CHARS = 12_000
EXIT_INVALID = 2

# terraform's action lists, by what a reviewer should call them (JSON output format, "change" object).
_ACTIONS = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "destroy",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("read",): "read",
    ("no-op",): "no-op",
    ("forget",): "forget",
}
_ORDER = ("destroy", "replace", "create", "update", "forget", "read")
_VERDICTS = {"success": "passed", "failure": "FAILED", "skipped": "did not run", "cancelled": "cancelled"}


class PlanError(ValueError):
    """The plan JSON cannot be summarized."""


def read_changes(plan: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every resource change except no-ops as (action, address), destructive first."""
    if "format_version" not in plan:
        msg = "not a terraform plan (no format_version): was it produced by `terraform show -json PLANFILE`?"
        raise PlanError(msg)
    raw = plan.get("resource_changes") or []
    if not isinstance(raw, list):
        msg = "resource_changes is not a list"
        raise PlanError(msg)
    changes = []
    for entry in raw:
        try:
            address = str(entry["address"])
            actions = tuple(entry["change"]["actions"])
        except (KeyError, TypeError) as error:
            msg = f"a resource change lacks its address or actions: {error}"
            raise PlanError(msg) from error
        action = _ACTIONS.get(actions)
        if action is None:
            msg = f"{address}: unknown actions {list(actions)}"
            raise PlanError(msg)
        if action != "no-op":
            changes.append((action, address))
    return sorted(changes, key=lambda change: (_ORDER.index(change[0]), change[1]))


def render(
    changes: Sequence[tuple[str, str]], *, compliance: str, report: str | None, commit: str | None
) -> str:
    counts = Counter(action for action, _ in changes)
    headline = (
        f"{counts['create']} to add, {counts['update']} to change, {counts['destroy']} to destroy, "
        f"{counts['replace']} to replace"
    )
    verdict = _VERDICTS.get(compliance, compliance)
    lines = [f"### Terraform plan: {headline}", ""]
    if commit:
        lines.append(f"Planned at `{commit}` with the read-only plan role.")
    lines.append(f"terraform-compliance (policies/terraform): **{verdict}**")
    lines.append("")
    destructive = counts["destroy"] + counts["replace"]
    if destructive:
        lines += [f"> [!WARNING]\n> {destructive} resource(s) will be destroyed or replaced.", ""]
    if changes:
        lines += ["| action | resource |", "|---|---|"]
        lines += [f"| {action} | `{address}` |" for action, address in changes[:_MAX_ROWS]]
        if len(changes) > _MAX_ROWS:
            lines.append(f"| … | {len(changes) - _MAX_ROWS} more in the job's plan output |")
    else:
        lines.append("No resource changes.")
    if report:
        tail = report[-_MAX_REPORT_CHARS:]
        cut = "(last part) " if len(report) > _MAX_REPORT_CHARS else ""
        lines += [
            "",
            f"<details><summary>terraform-compliance output {cut}</summary>",
            "",
            "```text",
            tail.replace("```", "'''").rstrip(),
            "```",
            "</details>",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m tools.deploy.plan_summary", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--plan-json", type=Path, required=True, help="terraform show -json output")
    parser.add_argument(
        "--compliance-outcome",
        default="skipped",
        choices=tuple(_VERDICTS),
        help="outcome of the terraform-compliance step",
    )
    parser.add_argument("--compliance-report", type=Path, help="terraform-compliance output to attach")
    parser.add_argument("--output", type=Path, required=True, help="where to write the Markdown")
    args = parser.parse_args(argv)
    try:
        changes = read_changes(json.loads(args.plan_json.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        sys.stderr.write(f"error: {args.plan_json}: {error}\n")
        return EXIT_INVALID
    report = None
    if args.compliance_report is not None and args.compliance_report.is_file():
        # terraform-compliance colours its output whether or not it writes to a terminal.
        report = strip_ansi(args.compliance_report.read_text(encoding="utf-8", errors="replace"))
    body = render(
        changes, compliance=args.compliance_outcome, report=report, commit=os.environ.get("GITHUB_SHA")
    )
    write_atomic(args.output, body)
    sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
