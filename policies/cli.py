"""`make policy`: run the gates, print one summary table, write JUnit and SARIF, exit 1 when any fails.

    python -m policies --uv .tools/bin/uv --pin checkov==X ... [--root DIR] [--gates a,b] [--plan PLAN]

The plan is made first (it takes longest) while the gates that do not need it run beside it; the gates
that judge the plan follow. Exit status: 0 every gate passed, 1 a gate failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from policies.gates import checkov, kubernetes_schema, plan, sarif_tools, terraform_compliance
from policies.model import GateError, GateResult
from policies.reports import details, summary, write_junit, write_sarif
from policies.workspace import Context, Root, Tools

Gate = Callable[[Context], GateResult]
# In summary order. The plan gate feeds the one after it.
PLAN_GATES: dict[str, Gate] = {plan.NAME: plan.run, terraform_compliance.NAME: terraform_compliance.run}
SOURCE_GATES: dict[str, Gate] = {
    checkov.NAME: checkov.run,
    kubernetes_schema.NAME: kubernetes_schema.run,
    sarif_tools.HADOLINT: sarif_tools.run_hadolint,
    sarif_tools.ZIZMOR: sarif_tools.run_zizmor,
}
ALL_GATES = [*PLAN_GATES, *SOURCE_GATES]


def _timed(gate: Gate, name: str, context: Context) -> GateResult:
    started = time.monotonic()
    try:
        result = gate(context)
    except GateError as error:
        result = GateResult(name=name, errors=[str(error)])
    except Exception as error:  # noqa: BLE001 -- a crashed gate is a failed gate, with its reason
        result = GateResult(name=name, errors=[f"the gate crashed: {type(error).__name__}: {error}"])
    result.seconds = time.monotonic() - started
    if result.checked == 0 and not result.errors:
        result.errors.append("checked nothing: no input was read")
    return result


def _selected(value: str) -> list[str]:
    names = ALL_GATES if value in {"", "all"} else [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALL_GATES]
    if unknown:
        msg = f"unknown gate(s) {', '.join(unknown)}; choose from {', '.join(ALL_GATES)}"
        raise ValueError(msg)
    # A gate that judges the plan needs the plan gate before it.
    if any(name in PLAN_GATES for name in names) and plan.NAME not in names:
        names = [plan.NAME, *names]
    return [name for name in ALL_GATES if name in names]


def run(context: Context, names: list[str]) -> list[GateResult]:
    results: dict[str, GateResult] = {}

    def gates(chain: dict[str, Gate]) -> None:
        for name in (name for name in chain if name in names):
            results[name] = _timed(chain[name], name, context)

    # The plan takes longest: its chain runs beside the source gates, each in a thread of its own.
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(gates, [PLAN_GATES, *({name: gate} for name, gate in SOURCE_GATES.items())]))
    return [results[name] for name in names]


MARKER = ".policy-reports"


def _fresh(context: Context) -> None:
    """Empty the reports folder (and its scratch sibling); refuse a non-empty folder this did not make."""
    reports = context.reports
    if reports.exists() and any(reports.iterdir()) and not (reports / MARKER).is_file():
        msg = f"--reports {reports} is not empty and holds no {MARKER}: refusing to empty it"
        raise ValueError(msg)
    for folder in (reports, context.work):
        shutil.rmtree(folder, ignore_errors=True)
    reports.mkdir(parents=True)
    (reports / MARKER).write_text("written by `make policy`; emptied by the next run\n", encoding="utf-8")


def _pin(value: str) -> tuple[str, str]:
    package, _, version = value.partition("==")
    if not package or not version:
        msg = f"{value!r}: expected package==version"
        raise argparse.ArgumentTypeError(msg)
    return package, version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=Path(), help="the tree to judge (default: .)")
    parser.add_argument("--reports", type=Path, default=Path("build/policy"), help="JUnit and SARIF go here")
    parser.add_argument(
        "--gates", default="all", help=f"comma-separated, default all: {', '.join(ALL_GATES)}"
    )
    parser.add_argument("--plan", type=Path, help="judge this plan JSON instead of planning infra/")
    parser.add_argument("--uv", type=Path, required=True, help="the uv that runs the pinned tools")
    parser.add_argument("--pin", type=_pin, action="append", default=[], help="package==version of a tool")
    args = parser.parse_args(argv)
    root, reports = Root(args.root.resolve()), args.reports.resolve()
    if not root.path.is_dir():
        parser.error(f"--root {args.root} is not a directory")
    tools = Tools(uv=args.uv.resolve(), pins=dict(args.pin))
    context = Context(root=root, reports=reports, tools=tools, given_plan=args.plan and args.plan.resolve())
    try:
        names = _selected(args.gates)
        _fresh(context)
    except ValueError as error:
        parser.error(str(error))
    started = time.monotonic()
    results = run(context, names)
    seconds = time.monotonic() - started
    write_junit(results, reports / "junit.xml")
    for result in results:
        # A gate whose tool writes SARIF keeps the tool's own file (repository paths already).
        if not (reports / f"{result.name}.sarif").is_file():
            write_sarif(result, reports / f"{result.name}.sarif")
    shutil.rmtree(context.work, ignore_errors=True)
    text = details(results)
    if text:
        sys.stdout.write(f"{text}\n\n")
    sys.stdout.write(f"policy gates on {root.path} (reports: {reports})\n{summary(results, seconds)}\n")
    sys.stdout.flush()
    return 0 if all(result.passed for result in results) else 1
