"""Summarize a terraform plan for reviewers: counts, every resource change, the compliance verdict.

Reads ``terraform show -json`` output, writes Markdown, and optionally appends it to the job summary
(``$GITHUB_STEP_SUMMARY``) and puts it on the pull request as one comment that later runs edit in place
(found by a marker, through ``gh api``). Standard library only: it runs before any project environment.

Exit status: 0 written (and posted); 2 unreadable plan or bad arguments; 1 posting the comment failed.
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

from tools.common import CommandError, run, strip_ansi, write_atomic

MARKER = "<!-- terraform-plan-summary -->"
# GitHub refuses comments over 65,536 characters; the plan table and the report tail share what is left.
_MAX_ROWS = 150
_MAX_REPORT_CHARS = 12_000
_GH_TIMEOUT_SECONDS = 60
EXIT_INVALID = 2
EXIT_POST_FAILED = 1

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
    lines = [MARKER, f"### Terraform plan: {headline}", ""]
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


def _gh(arguments: Sequence[str], *, stdin: str | None = None) -> str:
    result = run(["gh", *arguments], stdin=stdin, timeout=_GH_TIMEOUT_SECONDS)
    if result.returncode != 0:
        msg = f"gh {' '.join(arguments[:3])} failed (exit {result.returncode}): {result.stderr.strip()}"
        raise RuntimeError(msg)
    return result.stdout


def post_comment(repository: str, pull_request: int, body: str) -> str:
    """Edit this summary's earlier comment on the pull request, or create it; returns what was done."""
    comments = f"repos/{repository}/issues/{pull_request}/comments"
    mine = f'.[] | select(.body | startswith("{MARKER}")) | .id'
    found = _gh(["api", "--paginate", comments, "--jq", mine]).split()
    method, target = (
        ("PATCH", f"repos/{repository}/issues/comments/{found[0]}") if found else ("POST", comments)
    )
    _gh(["api", "--method", method, target, "--input", "-"], stdin=json.dumps({"body": body}))
    return f"updated comment {found[0]} on #{pull_request}" if found else f"commented on #{pull_request}"


def _parser() -> argparse.ArgumentParser:
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
    parser.add_argument("--step-summary", action="store_true", help="also append to $GITHUB_STEP_SUMMARY")
    parser.add_argument(
        "--comment-on", metavar="PR", type=int, help="pull request number to comment on (gh api)"
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    repository = environ.get("GITHUB_REPOSITORY", "")
    if args.comment_on is not None and "/" not in repository:
        parser.error("--comment-on needs GITHUB_REPOSITORY=OWNER/REPO")
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
        changes, compliance=args.compliance_outcome, report=report, commit=environ.get("GITHUB_SHA")
    )
    write_atomic(args.output, body)
    sys.stdout.write(body)
    if args.step_summary and environ.get("GITHUB_STEP_SUMMARY"):
        with Path(environ["GITHUB_STEP_SUMMARY"]).open("a", encoding="utf-8") as summary:
            summary.write(body)
    if args.comment_on is not None:
        try:
            sys.stdout.write(post_comment(repository, args.comment_on, body) + "\n")
        except (RuntimeError, CommandError) as error:
            sys.stderr.write(f"error: posting the plan summary: {error}\n")
            return EXIT_POST_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
