"""The plan gate: a fresh plan of the judged root's infra/, and a decision for every value it cannot show.

`make policy` always plans (about 30 s against the emulator) instead of reusing build/infra/plan.json: a
plan is only as current as every file and variable it was made from, and a stale plan that passes is
worse than a slow gate. `--plan PATH` judges a given plan instead (CI's plan job has a real AWS plan);
the summary then says which plan was judged.
"""

from __future__ import annotations

from policies import plan_facts, plan_meaning
from policies.model import GateError, GateResult
from policies.planning import load_plan, plan_root
from policies.workspace import Context
from tools.common import write_json

NAME = "plan"


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
