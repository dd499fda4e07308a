# A command-line tool: printing is its output.
# ruff: noqa: T201
"""``make capacity``: measure what one replica serves within the latency objective at each environment's CPU
request, record it (tools/load/capacity.json, committed), and print the plan derived from it.

``make capacity-plan`` prints the plan from the committed measurement without measuring. The plan shows,
per environment, the HPA CPU target the measurement suggests next to the one the environment configures:
it informs, and never writes into manifests_py/ or dist/. The plan's inputs (request rate, instance
allocatable, DaemonSet overhead, price) are options with documented defaults; the derivation itself lives
in tools/load/capacity_plan.py only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from api.service_card import load_service_card
from manifests_py.config import ConfigError, known_environments
from tools.load.bench import machine, make_run_command
from tools.load.capacity_measure import Endpoint, Ladder, LoadPlan, climb, quota_server
from tools.load.capacity_plan import HEADROOM, HPA_TOLERANCE, CapacityError, NodeShape
from tools.load.capacity_record import CAPACITY_PATH, FORMAT, load_capacity_record, write_capacity_record
from tools.load.capacity_table import Environment, plan_rows, read_environment, render_table, target_lines
from tools.load.cpu_quota import KUBELET_CFS_PERIOD_US, CgroupUnavailableError, cpu_quota
from tools.load.service import sample_row

EXIT_FAILED = 1
EXIT_INVALID = 2
_CPU = re.compile(r"^(?:([0-9]+)m|([0-9]+(?:\.[0-9]{1,3})?))$")
_MEMORY = re.compile(r"^([0-9]+)(Mi|Gi)$")


def _millicores(text: str) -> int:
    match = _CPU.fullmatch(text)
    if match is None:
        msg = f"{text!r} is not a CPU quantity such as 1930m or 2"
        raise argparse.ArgumentTypeError(msg)
    return int(match.group(1)) if match.group(1) else round(float(match.group(2)) * 1000)


def _mebibytes(text: str) -> int:
    match = _MEMORY.fullmatch(text)
    if match is None:
        msg = f"{text!r} is not a memory quantity such as 3100Mi or 4Gi"
        raise argparse.ArgumentTypeError(msg)
    return int(match.group(1)) * (1024 if match.group(2) == "Gi" else 1)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"{value} is not 1 or more"
        raise argparse.ArgumentTypeError(msg)
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.load.capacity", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--plan-only", action="store_true", help="print the plan from the committed record")
    parser.add_argument("--environments", nargs="+", metavar="NAME", help="default: every environment")
    parser.add_argument("--output", type=Path, default=CAPACITY_PATH, help="the record (default: committed)")
    # No defaults here: the Makefile's capacity section is where they are written and documented.
    measure = parser.add_argument_group(
        "measurement (make: CAPACITY_OBJECTIVE_P99_MS, _REPEATS, _STEP_SECONDS)"
    )
    measure.add_argument("--objective-p99-ms", type=float, help="latency objective")
    measure.add_argument("--step-seconds", type=_positive_int, help="seconds per load step")
    measure.add_argument("--repeats", type=_positive_int, help="climbs per endpoint (the median is kept)")
    measure.add_argument(
        "--fractions",
        type=float,
        nargs="+",
        default=LoadPlan().fractions,
        help="offered rates as rising fractions of the saturation throughput",
    )
    plan = parser.add_argument_group("plan (make: CAPACITY_RATE, CAPACITY_INSTANCE, ...)")
    plan.add_argument("--rate", type=float, required=True, help="requests per second to plan for")
    plan.add_argument("--instance", required=True, help="instance name, for the table")
    plan.add_argument("--allocatable-cpu", type=_millicores, required=True)
    plan.add_argument("--allocatable-memory", type=_mebibytes, required=True)
    plan.add_argument("--max-pods", type=int, required=True, help="the node's pod limit")
    plan.add_argument("--daemonset-cpu", type=_millicores, required=True)
    plan.add_argument("--daemonset-memory", type=_mebibytes, required=True)
    plan.add_argument("--daemonset-pods", type=int, required=True)
    plan.add_argument("--price", type=float, required=True, help="instance price per hour, USD")
    return parser


def _endpoints() -> tuple[Endpoint, ...]:
    path = load_service_card().paths.predict
    return (
        Endpoint(name=f"GET {path}", method="GET", path=path),
        Endpoint(name=f"POST {path}", method="POST", path=path, body=json.dumps(sample_row()).encode()),
    )


def _median_ladder(ladders: list[Ladder]) -> Ladder:
    """The climb whose limit is the median (the lower middle one for an even count): noise both ways."""
    ranked = sorted(ladders, key=lambda ladder: ladder.limit.requests_per_second if ladder.limit else 0.0)
    return ranked[(len(ranked) - 1) // 2]


def _measure_request(millicores: int, plan: LoadPlan, repeats: int, logs: Path) -> dict[str, Any]:
    card = load_service_card()
    ladders: dict[str, list[Ladder]] = {}
    with cpu_quota(millicores) as quota:
        with quota_server(quota, logs / f"server-{millicores}m.log", ready_path=card.paths.readiness) as (
            url,
            pid,
        ):
            for repeat in range(repeats):
                for endpoint in _endpoints():
                    ladder = climb(url, endpoint, plan, pid=pid, quota=quota)
                    ladders.setdefault(endpoint.name, []).append(ladder)
                    found = (
                        f"{ladder.limit.requests_per_second:,.0f} req/s" if ladder.limit else "no step met it"
                    )
                    print(
                        f"  {millicores}m {endpoint.name} climb {repeat + 1}/{repeats}: {found}", flush=True
                    )
        throttled = quota.stat()["nr_throttled"]
    endpoints: dict[str, Any] = {}
    for name, climbs in ladders.items():
        chosen = _median_ladder(climbs)
        if chosen.limit is None:
            msg = f"{millicores}m {name}: no load step met the objective in the median climb"
            raise RuntimeError(msg)
        endpoints[name] = {
            "limit": {
                key: getattr(chosen.limit, key)
                for key in (
                    "requests_per_second",
                    "p50_milliseconds",
                    "p99_milliseconds",
                    "cpu_millicores",
                    "in_flight",
                )
            },
            "climb_limits_per_second": [c.limit.requests_per_second if c.limit else 0.0 for c in climbs],
            "climbs": [c.to_json() for c in climbs],
        }
    return {
        "cpu_request_millicores": millicores,
        "cgroup": {
            "cpu.cfs_quota_us": millicores * KUBELET_CFS_PERIOD_US // 1000,
            "cpu.cfs_period_us": KUBELET_CFS_PERIOD_US,
            "throttled_periods": throttled,
        },
        "endpoints": endpoints,
    }


def _measure(environments: list[Environment], plan: LoadPlan, args: argparse.Namespace) -> dict[str, Any]:
    requests = sorted({env.cpu_request_millicores for env in environments})
    load_before = os.getloadavg()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="capacity-") as scratch:
        measurements = [_measure_request(m, plan, args.repeats, Path(scratch)) for m in requests]
    host = machine()
    date = host.pop("date")
    host["load_average_1m_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    return {
        "format": FORMAT,
        "date": date,
        "machine": host,
        "objective": {"percentile": 99, "p99_milliseconds": args.objective_p99_ms},
        "method": {
            "server": shlex.join(make_run_command(8000)),
            "cpu": "cgroup v1 CFS quota = the CPU request (period 100 ms); cpu.shares raised to the maximum",
            "load": "wrk, 1 thread: a closed-loop saturation run, then paced rates (fractions of it) on "
            "a fixed arrival schedule",
            "fractions_of_saturation": list(plan.fractions),
            "connections": plan.connections,
            "step_seconds": plan.step_seconds,
            "limit": "highest served rate whose p99 met the objective, no failures, >= "
            f"{plan.min_achieved:.0%} of the offered rate",
            "stop": f"after {plan.misses_to_stop} missed steps in a row",
            "repeats": args.repeats,
            "aggregate": "the climb with the median limit (lower middle for an even count)",
            "seconds_taken": round(time.monotonic() - started),
        },
        "measurements": measurements,
    }


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.plan_only and None in (args.objective_p99_ms, args.step_seconds, args.repeats):
        parser.error("measuring needs --objective-p99-ms, --step-seconds and --repeats (see make capacity)")
    try:
        environments = [read_environment(name) for name in args.environments or known_environments()]
        node = NodeShape(
            name=args.instance,
            allocatable_cpu_millicores=args.allocatable_cpu,
            allocatable_memory_mebibytes=args.allocatable_memory,
            max_pods=args.max_pods,
            daemonset_cpu_millicores=args.daemonset_cpu,
            daemonset_memory_mebibytes=args.daemonset_memory,
            daemonset_pods=args.daemonset_pods,
        )
        if not args.plan_only:
            plan = LoadPlan(
                fractions=tuple(args.fractions),
                step_seconds=args.step_seconds,
                objective_p99_milliseconds=args.objective_p99_ms,
            )
            print("measuring; other load on this machine makes the figures noisy", flush=True)
            write_capacity_record(_measure(environments, plan, args), args.output)
            print(f"wrote {args.output}: commit it; the HPA targets below are suggestions for the TOML")
        record = load_capacity_record(args.output)
        rows = plan_rows(record, environments, rate=args.rate, node=node, hourly_price=args.price)
    except (ConfigError, CapacityError, ValueError) as error:
        for problem in getattr(error, "problems", None) or [str(error)]:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except (CgroupUnavailableError, RuntimeError) as error:
        # No quota, a failed request at saturation, or no load step meeting the objective: nothing written.
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"\nmeasured {record.date} on {record.machine.get('cpu')} ({record.machine.get('cores')} cores); "
        f"objective p99 <= {record.objective_p99_milliseconds:g} ms; headroom {HEADROOM:.0%}, "
        f"HPA tolerance {HPA_TOLERANCE:.0%}\nplan: {args.rate:,.0f} req/s on {args.instance} "
        f"({args.allocatable_cpu}m / {args.allocatable_memory}Mi allocatable, DaemonSets "
        f"{args.daemonset_cpu}m / {args.daemonset_memory}Mi, {args.max_pods} pods) at ${args.price}/h\n"
    )
    print(render_table(rows))
    print("\n".join(["", *target_lines(rows)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
