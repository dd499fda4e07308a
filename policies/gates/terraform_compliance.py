"""The terraform-compliance gate: policies/terraform/*.feature on the plan, scenario by scenario.

Runs the pinned terraform-compliance (TERRAFORM_COMPLIANCE_VERSION) on a one-line copy of the plan (CI's
plan job runs this gate too, through `make plan-compliance`) and reads radish's cucumber JSON for each
scenario's outcome and the console for each failure's message.

IRSA trust policies are unknown in the root plan (the plan gate defers them here): the web-identity
feature then also runs on a plan of infra/modules/irsa_role made with a concrete issuer and the service
card's namespace and service account, so the module's trust template is judged by the same scenarios.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.service_card import load_service_card
from policies import features, locate, plan_facts
from policies.model import Evaluation, Finding, GateError, GateResult
from policies.planning import plan_configs
from policies.workspace import FEATURES_DIR, Context
from tools.common import tail, write_atomic, write_json

NAME = "terraform-compliance"
WEB_IDENTITY_FEATURE = "web_identity_trust.feature"
_SCENARIO = re.compile(r"^\s*Scenario( Outline)?: (.+?)\s*$")
_ROW = re.compile(r"^\s*\|(.+)\|\s*$")
_FAILURE = re.compile(r"^\s*Failure: (.*\S)\s*$")
_ROW_SUFFIX = re.compile(r"^(.*) - row (\d+)$")
_MESSAGE_LIMIT = 600
# terraform-compliance repeats some failures with an empty address ("... property of ."): noise.
_LEGACY_DUPLICATE = re.compile(r" of \.$")
# Example inputs for planning infra/modules/irsa_role on its own: an issuer of the shape EKS gives.
_IRSA_ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
_IRSA_ACCOUNT = "123456789012"


@dataclass
class _Scenario:
    name: str
    outline: bool
    line: int = 0
    rows: list[str] = field(default_factory=list)
    failures: dict[int | None, list[str]] = field(default_factory=lambda: defaultdict(list))


def _scenario_lines(features_dir: Path) -> dict[str, tuple[str, int]]:
    lines: dict[str, tuple[str, int]] = {}
    for feature in sorted(features_dir.glob("*.feature")):
        for number, text in enumerate(feature.read_text(encoding="utf-8").splitlines(), start=1):
            match = _SCENARIO.match(text)
            if match:
                lines[match.group(2)] = (f"policies/terraform/{feature.name}", number)
    return lines


def _console(text: str) -> dict[str, _Scenario]:
    """Each scenario's failure messages, by example row for outlines (a row's messages precede it)."""
    scenarios: dict[str, _Scenario] = {}
    current: _Scenario | None = None
    pending: list[str] = []
    seen_header = False
    for raw in text.splitlines():
        scenario = _SCENARIO.match(raw)
        if scenario:
            if current is not None and pending:
                current.failures[None].extend(pending)
            pending = []
            current = scenarios.setdefault(
                scenario.group(2), _Scenario(scenario.group(2), bool(scenario.group(1)))
            )
            seen_header = False
            continue
        if current is None:
            continue
        failure = _FAILURE.match(raw)
        if failure and not _LEGACY_DUPLICATE.search(failure.group(1)):
            pending.append(failure.group(1)[:_MESSAGE_LIMIT])
            continue
        row = _ROW.match(raw)
        if row and current.outline:
            if not seen_header:
                seen_header = True
                continue
            current.rows.append(", ".join(cell.strip() for cell in row.group(1).split("|")))
            current.failures[len(current.rows) - 1].extend(pending)
            pending = []
    if current is not None and pending:
        current.failures[None].extend(pending)
    return scenarios


def _cases(report: Path) -> list[tuple[str, str]]:
    """(scenario name, outcome) from radish's cucumber JSON; outcome is passed, failed or skipped.

    (radish's JUnit writer crashes on a feature whose scenarios were all skipped; this report does not.)"""
    try:
        document = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        msg = f"terraform-compliance wrote no readable results ({report.name}): {error}"
        raise GateError(msg) from error
    cases = []
    for feature in document:
        for element in feature.get("elements", []):
            statuses = {step.get("result", {}).get("status") for step in element.get("steps", [])}
            outcome = "failed" if "failed" in statuses else "skipped" if statuses - {"passed"} else "passed"
            cases.append((str(element.get("name", "?")), outcome))
    return cases


def _run(
    context: Context, plan: dict[str, Any], features_dir: Path, label: str, module: str | None = None
) -> tuple[list[Evaluation], int, int]:
    """(evaluations, scenarios run, scenarios skipped) of one terraform-compliance run; a plan of `module`
    on its own has its findings named and placed on that module."""
    work = context.work / f"terraform-compliance-{label}"
    # terraform-compliance reads a plan's first line only and rewrites its input file: it gets a one-line
    # copy, so a pretty-printed plan is read whole and the judged file is left as it was.
    compact = write_atomic(work / "plan-one-line.json", json.dumps(plan, separators=(",", ":")))
    report = work / "radish-cucumber.json"
    report.unlink(missing_ok=True)
    result = context.tools.run(
        "terraform-compliance",
        "--planfile",
        str(compact),
        "--features",
        str(features_dir),
        f"--cucumber-json={report}",
        cwd=work,
        env={"NO_COLOR": "1", "TERM": "dumb"},
    )
    write_atomic(context.reports / f"terraform-compliance-{label}.txt", result.stdout + result.stderr)
    if result.returncode not in {0, 1} or not report.is_file():
        output = tail(result.stdout + result.stderr)
        msg = f"terraform-compliance did not finish ({label}, exit {result.returncode}):\n{output}"
        raise GateError(msg)
    console = _console(result.stdout)
    lines = _scenario_lines(features_dir)
    evaluations: list[Evaluation] = []
    ran = skipped = 0
    for name, outcome in _cases(report):
        row_match = _ROW_SUFFIX.match(name)
        scenario_name, row = (row_match.group(1), int(row_match.group(2))) if row_match else (name, None)
        scenario = console.get(scenario_name)
        title = scenario_name
        if scenario is not None and row is not None and row < len(scenario.rows):
            title = f"{scenario_name} [{scenario.rows[row]}]"
        title += f" [{module}]" if module else ""
        if outcome == "skipped":
            skipped += 1
            continue
        ran += 1
        findings: tuple[Finding, ...] = ()
        if outcome == "failed":
            messages = (scenario.failures.get(row) if scenario else None) or ["failed (see the report)"]
            where = (f"{module}/main.tf", None) if module else lines.get(scenario_name, (None, None))
            findings = tuple(
                _finding(context, title, message, where, locate_address=not module)
                for message in dict.fromkeys(messages)
            )
        evaluations.append(Evaluation(rule=title, title=title, checked=1, findings=findings))
    return evaluations, ran, skipped


def _finding(
    context: Context, title: str, message: str, where: tuple[str | None, int | None], *, locate_address: bool
) -> Finding:
    """Placed on the declaration of the resource the message names in the root plan, else `where`."""
    address = locate.first_address(message) if locate_address else None
    declared = locate.declaration(context.root, context.plan or {}, address) if address else None
    path, line = declared or where
    return Finding(rule=title, title=title, message=message, path=path, line=line)


def _irsa_module_plan(context: Context) -> dict[str, Any]:
    card = load_service_card(context.root.service_card)
    module = context.root.path / plan_facts.IRSA_MODULE
    inputs: dict[str, Any] = {
        "name": "policy-gate-irsa-example",
        "oidc_provider_arn": f"arn:aws:iam::{_IRSA_ACCOUNT}:oidc-provider/{_IRSA_ISSUER}",
        "oidc_issuer": _IRSA_ISSUER,
        "namespace": card.namespace,
        "service_account": card.service_account,
    }
    (plan,) = plan_configs([(module, inputs)], context.work / "module-plans")
    write_json(context.reports / "irsa-role-module-plan.json", plan)
    return plan


def _module_run(context: Context) -> tuple[list[Evaluation], int, int]:
    """The web-identity feature on a plan of the IRSA module, findings placed on the module's file."""
    module_features = context.work / "web-identity-features"
    shutil.rmtree(module_features, ignore_errors=True)
    module_features.mkdir(parents=True)
    shutil.copy2(FEATURES_DIR / WEB_IDENTITY_FEATURE, module_features / WEB_IDENTITY_FEATURE)
    return _run(context, _irsa_module_plan(context), module_features, "irsa-module", plan_facts.IRSA_MODULE)


def run(context: Context) -> GateResult:
    result = GateResult(name=NAME, unit="scenarios")
    try:
        stale = features.stale(context.root.service_card)
    except (OSError, ValueError) as error:
        result.errors.append(
            f"cannot read the service card {context.root.relative(context.root.service_card)}: {error}"
        )
        return result
    result.errors += [
        f"policies/terraform/{name} is stale against the service card: run `make policy-features`"
        for name in stale
    ]
    if context.plan is None:
        result.errors.append("no plan to judge: the plan gate did not produce one")
        return result
    runs: list[Future[tuple[list[Evaluation], int, int]]] = []
    # The module plan (about 10 s) is made while terraform-compliance reads the root plan.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs.append(pool.submit(_run, context, context.plan, FEATURES_DIR, "root"))
        if context.deferred_trust:
            runs.append(pool.submit(_module_run, context))
            result.notes.append(
                f"{WEB_IDENTITY_FEATURE} also judged a plan of {plan_facts.IRSA_MODULE} "
                f"({len(context.deferred_trust)} roles use it)"
            )
    skipped_total = 0
    for future in runs:
        try:
            evaluations, ran, skipped = future.result()
        except GateError as error:
            result.errors.append(str(error))
            continue
        result.evaluations.extend(evaluations)
        result.checked += ran
        skipped_total += skipped
    if skipped_total:
        result.notes.append(
            f"{skipped_total} scenarios skipped: nothing of their kind in the plan (not @noskip)"
        )
    return result
