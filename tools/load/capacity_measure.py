"""Measure what one replica serves within a latency objective, held to a pod's CPU request.

``make run``'s command runs in a fresh cgroup v1 ``cpu`` group whose CFS quota is the request (500m ->
50000 us per the kubelet's 100000 us period); without one (no controller, not root) this refuses, since a
pod never has the whole machine. Its ``cpu.shares`` is the kernel's maximum: this machine's other load has
no kubelet budget, so the server gets its request first, and the quota still stops it there.

Per endpoint, a closed-loop wrk run finds the saturation throughput; then wrk offers rising fractions of it
on a fixed arrival schedule. The limit is the highest served rate whose p99 met the objective with no
failure and at least ``min_achieved`` of the offered rate; every step is kept for review.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, field_validator

from api.service_card import load_service_card
from tools.common import free_port
from tools.load.bench import machine, make_run_command
from tools.load.service import cpu_seconds, running_service, sample_row
from tools.load.wrk import run_wrk

CPU_CGROUP_ROOT = Path("/sys/fs/cgroup/cpu")
KUBELET_CFS_PERIOD_US = 100_000  # the kubelet's --cpu-cfs-quota-period default
_MINIMUM_QUOTA_US = 1000  # the kernel refuses less
_MAXIMUM_SHARES = 262_144  # cgroup v1's highest cpu.shares


class CgroupUnavailableError(RuntimeError):
    """No writable cgroup v1 cpu controller: the measurement cannot hold the server to its request."""


@dataclass(frozen=True)
class CpuQuota:
    path: Path
    quota_us: int  # per KUBELET_CFS_PERIOD_US

    @property
    def procs_file(self) -> Path:
        """Writing a PID here moves that process (every thread) into the cgroup; children inherit it."""
        return self.path / "cgroup.procs"

    def throttled(self) -> int:
        """CFS periods in which the quota ran out: proof the quota was in force."""
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stat["nr_throttled"])


@contextlib.contextmanager
def cpu_quota(millicores: int, *, root: Path = CPU_CGROUP_ROOT) -> Iterator[CpuQuota]:
    """A new cgroup allowing ``millicores`` of CPU; removed (members moved back to ``root``) on exit."""
    quota_us = millicores * KUBELET_CFS_PERIOD_US // 1000
    if quota_us < _MINIMUM_QUOTA_US:
        msg = f"{millicores}m is below the kernel's minimum CFS quota ({_MINIMUM_QUOTA_US} us a period)"
        raise ValueError(msg)
    refusal = "refusing to measure without the pod's CPU quota"
    if not (root / "cpu.cfs_quota_us").is_file():
        msg = f"no cgroup v1 cpu controller at {root} (cpu.cfs_quota_us is missing); {refusal}"
        raise CgroupUnavailableError(msg)
    group = root / f"predictor-capacity-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
    except OSError as error:
        msg = f"cannot create the cgroup {group} ({error.strerror}); run as root, {refusal}"
        raise CgroupUnavailableError(msg) from error
    try:
        for name, value in (("cfs_period_us", KUBELET_CFS_PERIOD_US), ("cfs_quota_us", quota_us)):
            (group / f"cpu.{name}").write_text(f"{value}\n")
        (group / "cpu.shares").write_text(f"{_MAXIMUM_SHARES}\n")
        yield CpuQuota(group, quota_us)
    finally:
        deadline = time.monotonic() + 10
        while True:  # move any process left back to the root, then remove the group
            for pid in (group / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):  # it may have exited meanwhile
                    (root / "cgroup.procs").write_text(f"{pid}\n")
            try:
                group.rmdir()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


class LoadPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Offered rates as fractions of the saturation throughput, rising.
    fractions: tuple[Annotated[float, Field(gt=0, le=1)], ...] = (0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
    step_seconds: PositiveInt = 4
    repeats: PositiveInt = 3  # climbs per endpoint; the median is kept
    objective_p99_milliseconds: PositiveFloat = 50.0
    # Enough to keep the offered rate through a throttling stall of one CFS period at these rates.
    connections: int = 64
    saturation_connections: int = 16
    min_achieved: float = 0.95
    misses_to_stop: int = 2

    @field_validator("fractions")
    @classmethod
    def _rising(cls, fractions: tuple[float, ...]) -> tuple[float, ...]:
        if not fractions or list(fractions) != sorted(set(fractions)):
            msg = "must rise step by step"
            raise ValueError(msg)
        return fractions


def climb(url: str, body: bytes | None, plan: LoadPlan, *, pid: int, quota: CpuQuota) -> dict[str, Any]:
    """Saturate once, then offer rising rates until the objective is missed ``misses_to_stop`` times."""
    method = "GET" if body is None else "POST"
    load = {"connections": plan.connections, "method": method, "body": body}
    saturation = run_wrk(
        url, seconds=plan.step_seconds, connections=plan.saturation_connections, method=method, body=body
    )
    if saturation.failed or saturation.requests == 0:
        msg = f"{method} {url}: {saturation.failed} of {saturation.requests} requests failed at saturation"
        raise RuntimeError(msg)
    # Untimed: opens the paced run's connections and lets the server settle after saturation.
    run_wrk(url, rate=saturation.requests_per_second * plan.fractions[0], seconds=1, **load)
    steps: list[dict[str, Any]] = []
    for rate in (saturation.requests_per_second * fraction for fraction in plan.fractions):
        throttled, cpu_before = quota.throttled(), cpu_seconds(pid)
        result = run_wrk(url, rate=rate, seconds=plan.step_seconds, **load)
        # CPU the server used per second of the step (1000 = one core).
        cpu = (cpu_seconds(pid) - cpu_before) / (result.duration_us / 1e6) * 1000
        p99 = result.p99_us / 1000
        step = {
            "offered_per_second": round(rate, 1),
            "requests": result.requests,
            "requests_per_second": round(result.requests_per_second, 1),
            "p50_milliseconds": round(result.p50_us / 1000, 2),
            "p99_milliseconds": round(p99, 2),
            "max_milliseconds": round(result.max_us / 1000, 2),
            "mean_milliseconds": round(result.mean_us / 1000, 3),
            "in_flight": round(result.in_flight, 2),  # requests inside the server on average
            "cpu_millicores": round(cpu, 1),
            "failed": result.failed,
            "throttled_periods": quota.throttled() - throttled,
            "meets_objective": result.failed == 0
            and result.requests > 0
            and result.requests_per_second >= plan.min_achieved * rate
            and p99 <= plan.objective_p99_milliseconds,
        }
        steps.append(step)
        recent = steps[-plan.misses_to_stop :]
        if len(recent) == plan.misses_to_stop and not any(step["meets_objective"] for step in recent):
            break
    met = [step for step in steps if step["meets_objective"]]
    return {
        "saturation_per_second": round(saturation.requests_per_second, 1),
        "steps": steps,
        "limit": max(met, key=lambda step: step["requests_per_second"]) if met else None,
    }


def _measure_request(millicores: int, plan: LoadPlan, logs: Path) -> dict[str, Any]:
    card = load_service_card()
    path = card.paths.predict
    bodies = {f"GET {path}": None, f"POST {path}": json.dumps(sample_row()).encode()}
    climbs: dict[str, list[dict[str, Any]]] = {name: [] for name in bodies}
    port = free_port()
    with cpu_quota(millicores) as quota:
        # The shell joins the cgroup, then (only if it did: `&&`) becomes the server: every thread and
        # child starts inside it, so a server that answers is a throttled one.
        joined = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(quota.procs_file), *make_run_command(port)]
        log = logs / f"server-{millicores}m.log"
        with running_service(
            log, command=joined, port=port, ready_path=card.paths.readiness, timeout=60
        ) as server:
            url, pid = server.url, server.pid
            for repeat in range(plan.repeats):
                for name, body in bodies.items():
                    ladder = climb(url + path, body, plan, pid=pid, quota=quota)
                    climbs[name].append(ladder)
                    limit = ladder["limit"]
                    found = f"{limit['requests_per_second']:,.0f} req/s" if limit else "no step met it"
                    print(f"  {millicores}m {name} climb {repeat + 1}/{plan.repeats}: {found}", flush=True)  # noqa: T201
        cgroup = {
            "cpu.cfs_quota_us": quota.quota_us,
            "cpu.cfs_period_us": KUBELET_CFS_PERIOD_US,
            "throttled_periods": quota.throttled(),
        }
    endpoints: dict[str, Any] = {}
    for name, ladders in climbs.items():
        limits = [ladder["limit"]["requests_per_second"] if ladder["limit"] else 0.0 for ladder in ladders]
        # The climb with the median limit (the lower middle one for an even count): noise both ways.
        chosen = ladders[limits.index(statistics.median_low(limits))]
        if chosen["limit"] is None:
            msg = f"{millicores}m {name}: no load step met the objective in the median climb"
            raise RuntimeError(msg)
        endpoints[name] = {
            "limit": chosen["limit"],
            "climb_limits_per_second": limits,
            "climbs": [
                {key: ladder[key] for key in ("saturation_per_second", "steps")} for ladder in ladders
            ],
        }
    return {
        "cpu_request_millicores": millicores,
        "cgroup": cgroup,
        "endpoints": endpoints,
    }


def measure(cpu_requests: list[int], plan: LoadPlan) -> dict[str, Any]:
    """The record of ``make capacity``: every CPU request measured, with how, where and when."""
    load_before = os.getloadavg()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="capacity-") as scratch:
        measurements = [_measure_request(m, plan, Path(scratch)) for m in sorted(set(cpu_requests))]
    host = machine()
    date = host.pop("date")
    host["load_average_1m_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    return {
        "format": 1,
        "date": date,
        "machine": host,
        "objective": {"percentile": 99, "p99_milliseconds": plan.objective_p99_milliseconds},
        "method": {
            "server": shlex.join(make_run_command(8000)),
            "cpu": "cgroup v1 CFS quota = the CPU request (period 100 ms); cpu.shares raised to the maximum",
            "load": "wrk, 1 thread: a closed-loop saturation run, then paced rates (fractions of it) on "
            "a fixed arrival schedule",
            "plan": plan.model_dump(),
            "limit": "highest served rate whose p99 met the objective, no failures, >= "
            f"{plan.min_achieved:.0%} of the offered rate",
            "repeats": plan.repeats,
            "aggregate": "the climb with the median limit (lower middle for an even count)",
            "seconds_taken": round(time.monotonic() - started),
        },
        "measurements": measurements,
    }
