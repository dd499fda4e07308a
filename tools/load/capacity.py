# A command-line tool: printing is its output.
# ruff: noqa: T201
"""``make capacity``: measure what one replica serves within the latency objective at each environment's CPU
request, record it (tools/load/capacity.json, committed), and print the plan derived from it.

``make capacity-plan`` prints the plan from the committed record without measuring. Per environment and
endpoint: the HPA CPU target the measurement suggests next to the one the environment configures,
replicas, nodes and cost. It informs, and never writes into manifests_py/ or dist/.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from manifests_py._model import Cpu, Memory, describe_errors, mebibytes, millicores
from manifests_py.config import EnvironmentConfig, known_environments, load_environment
from tools.common import markdown_table
from tools.load.capacity_measure import LoadPlan, measure
from tools.load.capacity_plan import (
    CAPACITY_PATH,
    HEADROOM,
    HPA_TOLERANCE,
    CapacityRecord,
    Limit,
    NodeShape,
    ReplicaPlan,
    cost_per_million,
    hpa_cpu_target_percent,
    load_capacity_record,
    nodes_for,
    pod_rate_at_target,
    pods_per_node,
    replicas_for,
    write_capacity_record,
)

EXIT_FAILED = 1
EXIT_INVALID = 2


# The manifests' own quantity types; argparse reports their ValueError as "invalid cpu_quantity value".
def cpu_quantity(text: str) -> int:
    return millicores(TypeAdapter(Cpu).validate_python(text))


def memory_quantity(text: str) -> int:
    return mebibytes(TypeAdapter(Memory).validate_python(text))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.load.capacity", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--plan-only", action="store_true", help="print the plan from the committed record")
    parser.add_argument("--environments", nargs="+", metavar="NAME", help="default: every environment")
    parser.add_argument("--output", type=Path, default=CAPACITY_PATH, help="the record (default: committed)")
    # No defaults here: the Makefile's capacity section is where they are written and documented.
    measuring = parser.add_argument_group("measurement (make: CAPACITY_OBJECTIVE_P99_MS, _REPEATS, ...)")
    # Each destination is the field of LoadPlan or NodeShape it fills: the models validate the values.
    measuring.add_argument(
        "--objective-p99-ms", dest="objective_p99_milliseconds", type=float, help="latency objective"
    )
    measuring.add_argument("--step-seconds", type=int, help="seconds per load step")
    measuring.add_argument("--repeats", type=int, help="climbs per endpoint (the median is kept)")
    measuring.add_argument(
        "--fractions", type=float, nargs="+", default=LoadPlan().fractions, help="rising shares of saturation"
    )
    plan = parser.add_argument_group("plan (make: CAPACITY_RATE, CAPACITY_INSTANCE, ...)")
    plan.add_argument("--rate", type=float, required=True, help="requests per second to plan for")
    plan.add_argument("--instance", dest="name", required=True, help="instance name, for the table")
    plan.add_argument(
        "--allocatable-cpu", dest="allocatable_cpu_millicores", type=cpu_quantity, required=True
    )
    plan.add_argument(
        "--allocatable-memory", dest="allocatable_memory_mebibytes", type=memory_quantity, required=True
    )
    plan.add_argument("--max-pods", type=int, required=True, help="the node's pod limit")
    plan.add_argument("--daemonset-cpu", dest="daemonset_cpu_millicores", type=cpu_quantity, required=True)
    plan.add_argument(
        "--daemonset-memory", dest="daemonset_memory_mebibytes", type=memory_quantity, required=True
    )
    plan.add_argument("--daemonset-pods", type=int, required=True)
    plan.add_argument("--price", type=float, required=True, help="instance price per hour, USD")
    return parser


@dataclass(frozen=True, kw_only=True)
class PlanRow:
    environment: EnvironmentConfig
    endpoint: str
    limit: Limit
    # The target the replicas are planned at: the configured one (the suggested one if none is).
    hpa_target_percent: int
    suggested_target_percent: int
    pod_per_second: float
    replicas: ReplicaPlan
    pods_per_node: int
    nodes: int
    cost_per_million: float


def plan_rows(
    record: CapacityRecord,
    environments: list[EnvironmentConfig],
    *,
    rate: float,
    node: NodeShape,
    hourly_price: float,
) -> list[PlanRow]:
    """One row per environment and endpoint, every figure from tools.load.capacity_plan."""
    rows = []
    for env in environments:
        resources, scale = env.resources, env.scale
        measurement = record.measurement_for(resources.cpu_request_millicores)
        suggested = hpa_cpu_target_percent(measurement)
        target = scale.cpu_target_percent or suggested
        per_node = pods_per_node(
            node,
            cpu_millicores=resources.cpu_request_millicores,
            memory_mebibytes=resources.memory_request_mebibytes,
        )
        zones = len(env.node_pool.zones) if env.node_pool else 1
        for endpoint, limit in measurement.limits():
            pod_rate = pod_rate_at_target(measurement, limit, target_percent=target)
            # The HPA keeps at least one pod on EKS even where the config asks for zero (Knative).
            plan = replicas_for(
                rate=rate, pod_rate=pod_rate, min_replicas=max(scale.min, 1), max_replicas=scale.max
            )
            nodes = nodes_for(replicas=plan.replicas, per_node=per_node, zones=zones)
            rows.append(
                PlanRow(
                    environment=env,
                    endpoint=endpoint,
                    limit=limit,
                    hpa_target_percent=target,
                    suggested_target_percent=suggested,
                    pod_per_second=pod_rate,
                    replicas=plan,
                    pods_per_node=per_node,
                    nodes=nodes,
                    cost_per_million=cost_per_million(nodes=nodes, hourly_price=hourly_price, rate=rate)
                    if rate > 0
                    else math.nan,
                )
            )
    return rows


def target_lines(rows: list[PlanRow]) -> list[str]:
    """Per environment: the configured HPA target beside the suggested one, and how to adopt it."""
    lines = []
    for row in {row.environment.name: row for row in rows}.values():
        name, configured = row.environment.name, row.environment.scale.cpu_target_percent
        suggested = row.suggested_target_percent
        line = f"{name}: HPA CPU target configured {'not set' if configured is None else f'{configured} %'}, "
        line += f"suggested {suggested} %"
        if configured != suggested:
            line += f" (to adopt it: [scale] cpu_target_percent = {suggested} in manifests_py/environments/"
            line += f"{name}.toml, then make synth)"
        lines.append(line)
    return lines


def _cells(row: PlanRow) -> list[str]:
    plan, env = row.replicas, row.environment
    replicas = f"{plan.replicas}"
    if plan.capped:
        replicas += f" (needs {plan.needed} > max {env.scale.max})"
    elif plan.needed < plan.replicas:
        replicas += f" (min; rate needs {plan.needed})"
    return [
        env.name,
        row.endpoint,
        f"{env.resources.cpu_request_millicores}m",
        f"{row.limit.requests_per_second:,.0f} ({row.limit.p99_milliseconds:.1f} ms)",
        f"{row.hpa_target_percent} %" + ("" if env.scale.cpu_target_percent else " (suggested)"),
        f"{row.suggested_target_percent} %",
        f"{row.pod_per_second:,.0f}",
        replicas,
        str(row.pods_per_node),
        str(row.nodes),
        # Capped at max, the pods run past the objective: no honest price for this rate.
        "over max" if plan.capped else f"{row.cost_per_million:.4f}",
    ]


def render_table(rows: list[PlanRow]) -> str:
    header = ["env", "endpoint", "request", "limit req/s (p99)", "HPA target", "suggested",
              "pod req/s at target", "replicas for rate", "pods/node", "nodes", "$ per 1M"]  # fmt: skip
    return markdown_table(header, [_cells(row) for row in rows])


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.plan_only and None in (args.objective_p99_milliseconds, args.step_seconds, args.repeats):
        parser.error("measuring needs --objective-p99-ms, --step-seconds and --repeats (see make capacity)")
    try:
        environments = [load_environment(name) for name in args.environments or known_environments()]
        node = NodeShape.model_validate(vars(args))
        if not args.plan_only:
            plan = LoadPlan.model_validate(vars(args))
            print("measuring; other load on this machine makes the figures noisy", flush=True)
            write_capacity_record(
                measure([env.resources.cpu_request_millicores for env in environments], plan), args.output
            )
            print(f"wrote {args.output}: commit it; the HPA targets below are suggestions for the TOML")
        record = load_capacity_record(args.output)
        rows = plan_rows(record, environments, rate=args.rate, node=node, hourly_price=args.price)
    except ValueError as error:  # ConfigError, CapacityError and pydantic's ValidationError among them
        named = describe_errors(error) if isinstance(error, ValidationError) else None
        for problem in named or getattr(error, "problems", None) or [str(error)]:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except RuntimeError as error:
        # No quota, a failed request at saturation, or no load step meeting the objective: nothing written.
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"\nmeasured {record.date} on {record.machine.get('cpu')} ({record.machine.get('cores')} cores); "
        f"objective p99 <= {record.objective.p99_milliseconds:g} ms; headroom {HEADROOM:.0%}, "
        f"HPA tolerance {HPA_TOLERANCE:.0%}\nplan: {args.rate:,.0f} req/s on {node.name} "
        f"({node.allocatable_cpu_millicores}m / {node.allocatable_memory_mebibytes}Mi allocatable, "
        f"DaemonSets {node.daemonset_cpu_millicores}m / {node.daemonset_memory_mebibytes}Mi, "
        f"{node.max_pods} pods) at ${args.price}/h\n"
    )
    print(render_table(rows))
    print("\n".join(["", *target_lines(rows)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
