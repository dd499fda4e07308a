"""Canary releases behind HAProxy under load, run by the deploy's own step engine.

HAProxy stands in for the ALB: a ``stable`` and a ``canary`` backend for the two target groups, weighted
as the listener's forward action is (haproxy.py); the step engine (tools/deploy/canary.py) moves the
weights through the runtime API and judges the canary backend's own requests, read from HAProxy's log.
Replicas are ``python -m api`` processes with the Deployment's environment, started and taken down as in
rehearsal.py. Three new versions are released, one after the other, under constant load from wrk:
- an erring one (every 5th scoring request answered 500) and a slow one (each scoring request held back)
  must be caught at the first step and rolled back; the report counts the requests that reached them;
- a healthy one must be promoted step by step (stable rolled to it, canary back to zero) with zero failed
  requests.

Every wait (the steps, health checks, preStop, drain) is multiplied by one time scale, the order kept; the
limits are not, and a step's ``min_requests`` scales with its length at the same load. One replica per
group keeps three releases within seconds.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.service_card import load_service_card
from manifests_py.props import CANARY, STABLE, Traffic
from tools.deploy.canary import AnalysisFailed, StepEngine, Window
from tools.load.haproxy import HAProxy
from tools.load.rehearsal import DEFAULT_MANIFESTS, ReplicaTimeline, Rollout, Timings
from tools.load.rollout_spec import load_rollout_spec

DEFAULT_TIME_SCALE = 0.05
FAULTY = [sys.executable, "-m", "tools.load.faulty_app"]
# The new versions, in the order they are released.
VERSIONS: dict[str, list[str]] = {
    "erring": [*FAULTY, "--error-every", "5"],
    "slow": [*FAULTY, "--delay-ms", "1000"],
    "healthy": [sys.executable, "-m", "api"],
}
# How far over the first step's share the requests that saw a bad version may go: the proxy picks by
# weighted random, so a window of a few dozen requests spreads around its share by a few requests.
EXPOSURE_TOLERANCE = 0.25
EXPOSURE_ALLOWANCE = 10
_WARM_UP_SECONDS = 0.3  # load on the stable version alone before each release
# A fixed arrival rate, not closed-loop connections: a slow version then still gets its share of the
# requests (closed-loop clients would wait on it and send it fewer). 200/s leaves the replicas starting
# meanwhile some of the two cores; 64 connections hold what the slow version keeps waiting.
LOAD_RATE = 200
LOAD_CONNECTIONS = 64


# The traffic settings released with, at real timings.
TRAFFIC = Traffic(steps=(10, 50), step_seconds=80, max_error_rate=0.02, max_p99_ms=500, min_requests=400)


@dataclass
class ProxySplit:
    """The listener's weights, and the canary backend's requests since the window opened from HAProxy's
    log: what CloudWatch gives per target group (request count, 5xx count, p99 of the response time)."""

    proxy: HAProxy
    # (monotonic time, canary percent, requests the proxy had received before and after): each shift.
    shifts: list[tuple[float, int, int, int]] = field(default_factory=list)
    offset: int = 0
    answers: list[tuple[int, int]] = field(default_factory=list)  # (status, Tr ms)

    def shift(self, canary_percent: int) -> None:
        before = self.proxy.frontend_counters()["req_tot"]
        self.proxy.set_weights({STABLE: 100 - canary_percent, CANARY: canary_percent})
        after = self.proxy.frontend_counters()["req_tot"]
        self.shifts.append((time.monotonic(), canary_percent, before, after))

    def open_window(self) -> None:
        self.offset, self.answers = self.proxy.log_path.stat().st_size, []

    def settled(self) -> bool:
        """Always: HAProxy logs each answer as it sends it."""
        return True

    def read(self) -> Window:
        self.offset, found = self.proxy.group_requests(self.offset)
        self.answers += [(status, tr) for group, status, tr in found if group == CANARY]
        times = sorted(tr for _, tr in self.answers if tr >= 0)
        return Window(
            requests=len(self.answers),
            errors=sum(status >= 500 or status < 0 for status, _ in self.answers),  # noqa: PLR2004 -- 5xx
            p99_ms=times[math.ceil(0.99 * len(times)) - 1] if times else None,
        )


@dataclass
class ProcessWorkloads:
    """The stable and canary Deployments as replica processes in their HAProxy backends."""

    stable: Rollout
    canary: Rollout
    live_stable: list[ReplicaTimeline]
    live_canary: list[ReplicaTimeline] = field(default_factory=list)
    stopping: list[Future[None]] = field(default_factory=list)

    def start_canary(self) -> None:
        self.live_canary = self.canary.start_initial()

    def promote(self) -> None:
        self.stable.command = self.canary.command
        self.stable.replace_all(self.live_stable)
        self.live_stable = self.stable.replicas[-self.stable.spec.replicas :]

    def stop_canary(self) -> None:
        # As `kubectl scale --replicas=0`: the pods' termination goes on after the call returns.
        while self.live_canary:
            self.stopping.append(self.canary.begin_termination(self.live_canary.pop()))


def _release(
    version: str, *, workloads: ProcessWorkloads, proxy: HAProxy, traffic: Traffic
) -> dict[str, Any]:
    workloads.canary.command = VERSIONS[version]
    split, log_start = ProxySplit(proxy), proxy.log_path.stat().st_size
    engine = StepEngine(traffic=traffic, split=split, workloads=workloads, say=lambda _: None)
    started = time.monotonic()
    failure: AnalysisFailed | None = None
    try:
        windows = engine.run()
    except AnalysisFailed as error:
        failure, windows = error, [error.window]
    answered_by = time.monotonic() + 30  # the requests it still holds are logged once answered
    while proxy.sessions(CANARY) and time.monotonic() < answered_by:
        time.sleep(0.02)
    _, logged = proxy.group_requests(log_start)
    (shifted, share, before, _), (back, _, _, after) = split.shifts[0], split.shifts[-1]
    saw_new = sum(group == CANARY for group, _, _ in logged)
    return {
        "version": version,
        "outcome": "rolled back" if failure else "promoted",
        "failed_step": failure.step if failure else None,
        "reason": str(failure) if failure else None,
        "seconds": round(time.monotonic() - started, 3),
        "first_shift_to_weights_back_seconds": round(back - shifted, 3),
        "first_step_percent": share,
        "windows": [dataclasses.asdict(window) for window in windows],
        # Every request the new version answered, and every request the proxy received meanwhile.
        "requests_to_new_version": saw_new,
        "requests_while_it_had_weight": after - before,
    }


def rehearse(*, workdir: Path, time_scale: float = DEFAULT_TIME_SCALE) -> dict[str, Any]:
    card = load_service_card()
    spec = dataclasses.replace(
        load_rollout_spec(DEFAULT_MANIFESTS), replicas=1, max_surge=1, max_unavailable=0
    )
    timings = Timings.from_sources(spec, card, time_scale)
    # A health check's timeout is a limit, not a wait of the release: cut to a tenth of the ALB's, a busy
    # two-core machine fails checks (and takes the stable group out) that production would pass.
    real_timeout = card.load_balancer.health_check.timeout_seconds
    check = dataclasses.replace(timings.health_check, timeout_seconds=real_timeout)
    timings = dataclasses.replace(timings, health_check=check)
    # A step's request count scales with its length at the same load.
    scaled = {"step_seconds": TRAFFIC.step_seconds * time_scale}
    traffic = TRAFFIC.model_copy(
        update=scaled | {"min_requests": math.ceil(TRAFFIC.min_requests * time_scale)}
    )
    workdir.mkdir(parents=True, exist_ok=True)
    releases = []
    with HAProxy(
        workdir,
        health_check=timings.health_check,
        idle_timeout_seconds=timings.idle_timeout_seconds,
        groups=(STABLE, CANARY),
    ) as proxy:
        groups = {
            group: Rollout(
                proxy=proxy, spec=spec, timings=timings, workdir=workdir, with_pre_stop=True, backend=group
            )
            for group in (STABLE, CANARY)
        }
        groups[CANARY].api_key = groups[STABLE].api_key
        try:
            workloads = ProcessWorkloads(
                stable=groups[STABLE], canary=groups[CANARY], live_stable=groups[STABLE].start_initial()
            )
            for version in VERSIONS:
                load = groups[STABLE].scoring_load(card, LOAD_CONNECTIONS, rate=LOAD_RATE)
                with load:
                    time.sleep(_WARM_UP_SECONDS)
                    release = _release(version, workloads=workloads, proxy=proxy, traffic=traffic)
                    result = load.stop()
                release |= {"requests": result.requests, "failed": result.failed, "non2xx": result.non2xx}
                release["p99_ms"] = result.p99_us / 1000
                releases.append(release)
            for stopping in workloads.stopping:
                stopping.result()
        finally:
            for rollout in groups.values():
                rollout.close()
    return {
        "time_scale": time_scale,
        "traffic": dict(traffic),
        "replicas_per_group": spec.replicas,
        "exposure_tolerance": EXPOSURE_TOLERANCE,
        "exposure_allowance": EXPOSURE_ALLOWANCE,
        "releases": releases,
    }


def summary(report: dict[str, Any]) -> str:
    lines = [
        f"canary release rehearsal (time scale {report['time_scale']:g}, steps {report['traffic']['steps']}):"
    ]
    for run in report["releases"]:
        lines.append(
            f"  {run['version']:8} {run['outcome']:11} step={run['failed_step']} requests={run['requests']} "
            f"failed={run['failed']} saw_new_version={run['requests_to_new_version']} of "
            f"{run['requests_while_it_had_weight']} sent while it had weight (first step "
            f"{run['first_step_percent']}%), weights back after "
            f"{run['first_shift_to_weights_back_seconds']:.2f}s"
        )
        if run["reason"]:
            lines.append(f"           {run['reason']}")
    return "\n".join(lines)
