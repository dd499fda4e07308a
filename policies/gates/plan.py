"""The plan gate: a fresh plan of the judged root's infra/, and a decision for every value it cannot show.

`make policy` always plans (about 30 s against the emulator, by `tools.infra.offline_plan` on the judged
root's infra/: what `make infra-plan` runs, so a copy of the repository is planned exactly as the
repository is) instead of reusing build/infra/plan.json: a plan is only as current as every file and
variable it was made from, and a stale plan that passes is worse than a slow gate. `--plan PATH` judges a
given plan instead (CI's plan job has a real AWS plan); the summary then says which plan was judged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from policies import plan_facts, plan_meaning
from policies.model import GateError, GateResult
from policies.workspace import Context, Root
from tools.common import tail, write_json
from tools.infra import aws_emulator, offline_plan, tfenv

NAME = "plan"


def plan_root(root: Root, out: Path) -> dict[str, Any]:
    """`tools.infra.offline_plan` of the judged root's infra/, in this process (the provider source tfenv
    found is cached for every plan of the run); the plan JSON is also written to `out`."""
    try:
        return offline_plan.offline_plan(out, out.with_name("bootstrap-plan.json"), root.infra)
    except (tfenv.TerraformEnvError, aws_emulator.EmulatorError) as error:
        msg = f"terraform plan of {root.relative(root.infra)} failed:\n{tail(str(error), 40)}"
        raise GateError(msg) from error


def load_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        msg = f"plan {path} does not exist"
        raise GateError(msg) from error
    except (OSError, ValueError) as error:
        msg = f"plan {path} is not readable JSON: {error}"
        raise GateError(msg) from error
    if not isinstance(plan, dict) or "format_version" not in plan or "planned_values" not in plan:
        msg = f"{path} is not a plan's JSON (`terraform show -json PLANFILE`)"
        raise GateError(msg)
    return plan


def run(context: Context) -> GateResult:
    if context.given_plan is not None:
        plan, note = load_plan(context.given_plan), f"judged the given plan {context.given_plan}"
    else:
        plan = plan_root(context.root, context.reports / "plan.json")
        note = f"planned {context.root.relative(context.root.infra)} against the emulator"
    facts = plan_facts.analyse(plan)
    if not facts.resources:
        msg = "the plan has no resource changes to judge"
        raise GateError(msg)
    # Every decision on a value the plan cannot show, for a reviewer (and the tests) to read.
    write_json(
        context.reports / "plan-decisions.json",
        {"unknown_keys_from_kms": facts.unknown_keys},
    )
    context.plan = plan
    evaluations = [*facts.evaluations, *plan_meaning.judge(plan)]
    result = GateResult(
        name=NAME, unit="resources", checked=facts.resources, evaluations=evaluations, notes=[note]
    )
    if facts.unknown_keys:
        result.notes.append(
            f"{len(facts.unknown_keys)} KMS key attributes unknown until apply, each set from an aws_kms_key"
        )
    return result
