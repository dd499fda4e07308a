"""Measure what one replica serves within a latency objective, with the server held to a pod's CPU request.

The server is the exact command ``make run`` executes (production settings: request logging and metrics
on), started inside a cgroup whose CFS quota is the request (``tools.load.cpu_quota``). For each
endpoint a short closed-loop wrk run first finds the saturation throughput; then wrk offers rising
request rates, fractions of it, on a fixed arrival schedule (``tools.load.wrk``'s ``rate``), each for a
bounded time. The limit is the highest achieved rate whose p99 met the objective with no failed request
and at least ``min_achieved`` of the offered rate served; the climb stops after ``misses_to_stop``
misses in a row, or at the last step. Every step is kept so the curve can be reviewed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from tools.load.bench import make_run_command
from tools.load.cpu_quota import CpuQuota
from tools.load.process_stats import cpu_seconds
from tools.load.service import free_port, start_service
from tools.load.wrk import run_wrk

__all__ = ["Endpoint", "Ladder", "LoadPlan", "Step", "climb", "quota_server"]


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    name: str  # "GET /predict"
    method: str
    path: str
    body: bytes | None = None


@dataclass(frozen=True, kw_only=True)
class LoadPlan:
    # Offered rates as fractions of the saturation throughput, rising.
    fractions: tuple[float, ...] = (0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
    step_seconds: int = 4
    # Enough to keep the offered rate through a throttling stall of one CFS period at these rates.
    connections: int = 64
    saturation_connections: int = 16
    objective_p99_milliseconds: float = 50.0
    min_achieved: float = 0.95
    misses_to_stop: int = 2

    def __post_init__(self) -> None:
        if not self.fractions or list(self.fractions) != sorted(set(self.fractions)):
            msg = f"fractions must rise step by step, got {self.fractions!r}"
            raise ValueError(msg)
        if self.fractions[0] <= 0 or self.fractions[-1] > 1:
            msg = f"fractions must lie within (0, 1], got {self.fractions!r}"
            raise ValueError(msg)
        if min(self.step_seconds, self.connections, self.saturation_connections, self.misses_to_stop) < 1:
            msg = "step_seconds, connections, saturation_connections and misses_to_stop must be >= 1"
            raise ValueError(msg)
        if self.objective_p99_milliseconds <= 0 or not 0 < self.min_achieved <= 1:
            msg = "the p99 objective must be above zero and min_achieved within (0, 1]"
            raise ValueError(msg)


@dataclass(frozen=True, kw_only=True)
class Step:
    offered_per_second: float
    requests: int
    requests_per_second: float
    p50_milliseconds: float
    p99_milliseconds: float
    max_milliseconds: float
    mean_milliseconds: float
    # Requests inside the server on average (rate x mean latency).
    in_flight: float
    # CPU the server used during the step, per second of it (1000 = one core).
    cpu_millicores: float
    failed: int
    # CFS periods in which the quota ran out: proof the quota was in force.
    throttled_periods: int
    meets_objective: bool


@dataclass(frozen=True, kw_only=True)
class Ladder:
    endpoint: str
    saturation_per_second: float
    steps: tuple[Step, ...]

    @property
    def limit(self) -> Step | None:
        meeting = [step for step in self.steps if step.meets_objective]
        return max(meeting, key=lambda step: step.requests_per_second) if meeting else None

    def to_json(self) -> dict[str, object]:
        return {
            "saturation_per_second": self.saturation_per_second,
            "steps": [asdict(step) for step in self.steps],
        }


def _step(  # noqa: PLR0913 - one step's inputs
    url: str, endpoint: Endpoint, rate: float, plan: LoadPlan, *, pid: int, quota: CpuQuota
) -> Step:
    throttled_before = quota.stat()["nr_throttled"]
    cpu_before = cpu_seconds(pid)
    result = run_wrk(
        url,
        rate=rate,
        seconds=plan.step_seconds,
        connections=plan.connections,
        method=endpoint.method,
        body=endpoint.body,
    )
    cpu_used = cpu_seconds(pid) - cpu_before
    p99 = result.p99_us / 1000
    served_enough = result.requests_per_second >= plan.min_achieved * rate
    return Step(
        offered_per_second=round(rate, 1),
        requests=result.requests,
        requests_per_second=round(result.requests_per_second, 1),
        p50_milliseconds=round(result.p50_us / 1000, 2),
        p99_milliseconds=round(p99, 2),
        max_milliseconds=round(result.max_us / 1000, 2),
        mean_milliseconds=round(result.mean_us / 1000, 3),
        in_flight=round(result.in_flight, 2),
        cpu_millicores=round(cpu_used / (result.duration_us / 1e6) * 1000, 1),
        failed=result.failed,
        throttled_periods=quota.stat()["nr_throttled"] - throttled_before,
        meets_objective=(
            result.failed == 0
            and result.requests > 0
            and served_enough
            and p99 <= plan.objective_p99_milliseconds
        ),
    )


def climb(base_url: str, endpoint: Endpoint, plan: LoadPlan, *, pid: int, quota: CpuQuota) -> Ladder:
    """Saturate once, then offer rising rates until the objective is missed ``misses_to_stop`` times."""
    url = f"{base_url}{endpoint.path}"
    saturation = run_wrk(
        url,
        seconds=plan.step_seconds,
        connections=plan.saturation_connections,
        method=endpoint.method,
        body=endpoint.body,
    )
    if saturation.failed or saturation.requests == 0:
        msg = f"{endpoint.name}: {saturation.failed} of {saturation.requests} requests failed at saturation"
        raise RuntimeError(msg)
    # Untimed: opens the paced run's connections and lets the server settle after saturation.
    run_wrk(
        url,
        rate=saturation.requests_per_second * plan.fractions[0],
        seconds=1,
        connections=plan.connections,
        method=endpoint.method,
        body=endpoint.body,
    )
    steps: list[Step] = []
    misses = 0
    for fraction in plan.fractions:
        step = _step(url, endpoint, saturation.requests_per_second * fraction, plan, pid=pid, quota=quota)
        steps.append(step)
        misses = 0 if step.meets_objective else misses + 1
        if misses >= plan.misses_to_stop:
            break
    return Ladder(
        endpoint=endpoint.name,
        saturation_per_second=round(saturation.requests_per_second, 1),
        steps=tuple(steps),
    )


@contextlib.contextmanager
def quota_server(
    quota: CpuQuota,
    log_path: Path,
    *,
    ready_path: str,
    command_for_port: Callable[[int], list[str]] = make_run_command,
) -> Iterator[tuple[str, int]]:
    """The service (by default `make run`'s command) started inside ``quota``'s cgroup; yields (URL, PID)."""
    port = free_port()
    # The shell joins the cgroup, then becomes the server: every thread and child starts inside it.
    joined = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(quota.procs_file), *command_for_port(port)]
    server = start_service(log_path, command=joined, port=port, ready_path=ready_path, timeout=60)
    try:
        if server.pid not in quota.members():
            msg = f"the server (PID {server.pid}) is not in {quota.path}; refusing to measure it unthrottled"
            raise RuntimeError(msg)
        yield server.url, server.pid
    finally:
        server.terminate()
