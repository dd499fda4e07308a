"""``make rehearse``: a rolling replacement of every replica behind a real load balancer, under load.

What Kubernetes and the ALB would do, at process level on loopback:
- replicas are ``python -m api`` processes configured with the Deployment's own environment;
- HAProxy stands in for the ALB target group (health checks from ``api/service.json``; see haproxy.py);
- the rollout follows the Deployment's strategy as the controller resolves it (maxSurge/maxUnavailable
  against the replica count), and each old replica goes the way the kubelet takes a pod down: out of the
  target group, the preStop sleep, SIGTERM, and SIGKILL if ``terminationGracePeriodSeconds`` runs out;
- wrk holds constant load through HAProxy from before the first new replica until the last old one is gone.

The same rollout then runs without the preStop sleep, and without taking the replica out of rotation first
(a pod with no preStop hook gets SIGTERM while the load balancer still routes to it; the load balancer only
learns from its own health checks), to show what the setting buys.

Time scale: every duration the proof depends on (health-check interval and timeout, preStop sleep,
termination grace, drain budget, deregistration delay, minReadySeconds) is multiplied by one factor.
The proof is about their order, which a common factor keeps: the load balancer stops routing before
SIGTERM, and the grace period outlasts preStop plus the drain. Counts (thresholds, replicas) and the
replicas' own start-up and request times are not scaled. ``--time-scale 1`` runs the real timings.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from api.service_card import ServiceCard, load_service_card
from api.settings import ENV_PREFIX, Settings
from tools.common import REPO_ROOT, write_json
from tools.load.haproxy import HAProxy, HealthCheck
from tools.load.rollout_spec import RolloutSpec, load_rollout_spec
from tools.load.service import ServiceProcess, free_port, sample_row, start_service
from tools.load.wrk import Wrk, WrkResult

__all__ = [
    "DEFAULT_MANIFESTS",
    "DEFAULT_TIME_SCALE",
    "MIN_REQUESTS",
    "RehearsalError",
    "RunReport",
    "Timings",
    "rehearse",
    "run_rollout",
]

DEFAULT_MANIFESTS = REPO_ROOT / "dist" / "prod"
# Half the real timings: both rollouts of three replicas take about a minute on two cores (the real ones
# about two), and the rollout alone still outlasts the 20,000 requests at the load below even on a busy
# machine. See the module docstring for why the proof survives scaling.
DEFAULT_TIME_SCALE = 0.5
MIN_REQUESTS = 20_000  # the acceptance: zero failures across at least this many requests
# 24 connections each pausing 10 ms between requests: about 2,000 requests/s when latency is a few ms.
# Steady rather than flat out, so the replicas starting up and the health checks still get CPU on two
# cores and the p99 says something about the rollout rather than about a saturated machine.
LOAD_CONNECTIONS = 24
LOAD_PAUSE_MS = 10
_WARM_UP_SECONDS = 1.0  # load runs this long before the rollout's first step
_SETTLE_SECONDS = 0.5  # and this long after the last old replica is gone, so late failures are seen
_MAX_PADDING_SECONDS = 60.0  # most the load may run past the rollout to reach MIN_REQUESTS
_POLL_SECONDS = 0.02
_MIN_REPLICAS = 2  # a rolling replacement behind a load balancer needs a neighbour


class RehearsalError(RuntimeError):
    """The rollout could not be carried out (a replica did not start, the proxy refused a command...)."""


def _variable(field_name: str) -> str:
    if field_name not in Settings.__struct_fields__:
        msg = f"{field_name} is not a service setting"
        raise RehearsalError(msg)
    return f"{ENV_PREFIX}{field_name.upper()}"


@dataclass(frozen=True)
class Timings:
    """Every duration the rollout depends on, already multiplied by ``scale``."""

    scale: float
    health_check: HealthCheck
    pre_stop_seconds: float
    termination_grace_seconds: float
    drain_seconds: float
    deregistration_delay_seconds: float
    min_ready_seconds: float
    idle_timeout_seconds: float  # not scaled: no step of the rollout waits on it

    @classmethod
    def from_sources(cls, spec: RolloutSpec, card: ServiceCard, scale: float) -> Timings:
        if not 0 < scale <= 1:
            msg = f"time scale must be in (0, 1], got {scale}"
            raise RehearsalError(msg)
        check = card.load_balancer.health_check
        drain = float(spec.container_env.get(_variable("drain_seconds"), card.server.drain_seconds))
        return cls(
            scale=scale,
            health_check=HealthCheck(
                path=card.paths.readiness,
                interval_seconds=check.interval_seconds * scale,
                timeout_seconds=check.timeout_seconds * scale,
                healthy_threshold=check.healthy_threshold,
                unhealthy_threshold=check.unhealthy_threshold,
            ),
            pre_stop_seconds=spec.pre_stop_seconds * scale,
            termination_grace_seconds=spec.termination_grace_seconds * scale,
            drain_seconds=drain * scale,
            deregistration_delay_seconds=card.load_balancer.deregistration_delay_seconds * scale,
            min_ready_seconds=spec.min_ready_seconds * scale,
            idle_timeout_seconds=card.load_balancer.idle_timeout_seconds,
        )

    def replica_env(self, spec: RolloutSpec) -> dict[str, str]:
        """The Deployment's environment, minus what each replica sets itself, with the drain scaled."""
        own = {_variable("host"), _variable("port")}
        env = {name: value for name, value in spec.container_env.items() if name not in own}
        env[_variable("drain_seconds")] = f"{self.drain_seconds:g}"
        return env


@dataclass
class ReplicaTimeline:
    """Seconds since the load started, for each step a replica went through (None: never happened)."""

    name: str
    port: int
    started: float | None = None
    healthy: float | None = None
    admitted: float | None = None
    terminating: float | None = None  # the pod's deletion: termination begins (preStop, or SIGTERM at once)
    deregistered: float | None = None
    sigterm: float | None = None
    exited: float | None = None
    exit_code: int | None = None
    killed_after_grace: bool = False
    marked_down_by_checks: float | None = None
    removed: float | None = None
    requests_logged: int = 0
    server_errors_logged: int = 0


_STEPS = (
    "started",
    "healthy",
    "admitted",
    "terminating",
    "deregistered",
    "sigterm",
    "exited",
    "marked_down_by_checks",
    "removed",
)


@dataclass
class RunReport:
    with_pre_stop: bool
    requests: int
    non2xx: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    failed: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    load_seconds: float
    rollout_seconds: float
    requests_during_rollout: int  # from the proxy's counter, rollout start to last removal
    proxy: dict[str, int]  # HAProxy frontend counters over the load window
    proxy_abnormal: dict[str, int]  # requests the proxy logged as not ending normally, by reason
    replicas: list[ReplicaTimeline] = field(default_factory=list)

    @property
    def zero_downtime(self) -> bool:
        return self.failed == 0 and all(
            r.exit_code in {None, 0} and not r.killed_after_grace for r in self.replicas
        )


class _Replica:
    def __init__(self, service: ServiceProcess, timeline: ReplicaTimeline) -> None:
        self.service = service
        self.timeline = timeline

    @property
    def name(self) -> str:
        return self.timeline.name


class _Rollout:
    """Carries out one rollout; every process it starts is stopped by ``close`` whatever happened."""

    def __init__(
        self, *, proxy: HAProxy, spec: RolloutSpec, timings: Timings, workdir: Path, with_pre_stop: bool
    ) -> None:
        self.proxy = proxy
        self.spec = spec
        self.timings = timings
        self.workdir = workdir
        self.with_pre_stop = with_pre_stop
        self.replicas: list[_Replica] = []
        self._clock_zero = time.monotonic()
        self._counter = 0
        self._terminations = ThreadPoolExecutor(max_workers=max(1, spec.replicas), thread_name_prefix="term")

    def now(self) -> float:
        return round(time.monotonic() - self._clock_zero, 3)

    def reset_clock(self) -> None:
        """Times become seconds since now (the load's start); steps taken before it turn negative."""
        shift = time.monotonic() - self._clock_zero
        self._clock_zero += shift
        for replica in self.replicas:
            timeline = replica.timeline
            for step in _STEPS:
                value = getattr(timeline, step)
                if value is not None:
                    setattr(timeline, step, round(value - shift, 3))

    # ------------------------------------------------------------------ one replica

    def start_replica(self) -> _Replica:
        self._counter += 1
        name = f"r{self._counter}"
        port = free_port()
        service = start_service(
            self.workdir / f"{name}.log", env=self.timings.replica_env(self.spec), port=port, wait=False
        )
        replica = _Replica(service, ReplicaTimeline(name=name, port=port, started=self.now()))
        self.replicas.append(replica)
        # The pod gets an IP and the load balancer controller registers it; its checks gate traffic.
        self.proxy.register(name, port)
        return replica

    def _readiness_budget(self) -> float:
        check = self.timings.health_check
        checks = (check.healthy_threshold + 1) * (check.interval_seconds + check.timeout_seconds)
        # The kubelet would restart a container that misses its startup budget; allow that much start-up.
        return (self.spec.startup_budget_seconds or 30.0) + checks

    def is_available(self, replica: _Replica) -> bool:
        """Healthy in the load balancer (the readiness gate), admitted, and ready for minReadySeconds."""
        timeline = replica.timeline
        if replica.service.process.poll() is not None:
            msg = (
                f"replica {replica.name} exited with {replica.service.process.returncode} before it was ready"
            )
            raise RehearsalError(msg)
        if timeline.admitted is None:
            if not self.proxy.server(replica.name).healthy:
                budget = self._readiness_budget()
                if self.now() - (timeline.started or 0) > budget:
                    msg = f"replica {replica.name} not healthy in the proxy within {budget:g} s"
                    raise RehearsalError(msg)
                return False
            timeline.healthy = self.now()
            self.proxy.admit(replica.name)
            timeline.admitted = self.now()
        return self.now() - timeline.admitted >= self.timings.min_ready_seconds

    def _terminate(self, replica: _Replica) -> None:
        timeline = replica.timeline
        process = replica.service.process
        grace = self.timings.termination_grace_seconds
        if self.with_pre_stop:
            # The endpoint goes away and the load balancer controller deregisters the target, while the
            # preStop hook holds SIGTERM back.
            self.proxy.deregister(replica.name)
            timeline.deregistered = self.now()
            time.sleep(self.timings.pre_stop_seconds)
            grace -= self.timings.pre_stop_seconds
        timeline.sigterm = self.now()
        process.send_signal(signal.SIGTERM)
        try:
            timeline.exit_code = replica.service.wait(timeout=max(grace, 0.0))
        except subprocess.TimeoutExpired:
            process.kill()
            timeline.killed_after_grace = True
            timeline.exit_code = replica.service.wait(timeout=30)
        timeline.exited = self.now()
        if not self.with_pre_stop:
            check = self.timings.health_check
            budget = (check.unhealthy_threshold + 1) * (check.interval_seconds + check.timeout_seconds) + 5
            self.proxy.wait_until_down(replica.name, timeout=budget)
            timeline.marked_down_by_checks = self.now()
        self.proxy.remove(replica.name)
        timeline.removed = self.now()

    def begin_termination(self, replica: _Replica) -> Future[None]:
        replica.timeline.terminating = self.now()
        return self._terminations.submit(self._terminate, replica)

    # ------------------------------------------------------------------ the whole set

    def start_initial(self) -> list[_Replica]:
        replicas = [self.start_replica() for _ in range(self.spec.replicas)]
        while not all(self.is_available(r) for r in replicas):
            time.sleep(_POLL_SECONDS)
        return replicas

    def replace_all(self, old: list[_Replica]) -> None:
        """The Deployment controller's loop, reduced to what a rolling update of one template does.

        Scale down old replicas while enough stay available (ready old + available new must not drop below
        replicas - maxUnavailable); scale up new ones while the total stays within replicas + maxSurge.
        Terminating replicas count toward neither, as in Kubernetes.
        """
        spec = self.spec
        old = list(old)
        starting: list[_Replica] = []
        available: list[_Replica] = []
        terminations: list[Future[None]] = []
        while old or starting:
            for replica in list(starting):
                if self.is_available(replica):
                    starting.remove(replica)
                    available.append(replica)
            while old and len(old) + len(available) - 1 >= spec.replicas - spec.max_unavailable:
                terminations.append(self.begin_termination(old.pop(0)))
            while (
                len(old) + len(starting) + len(available) < spec.replicas + spec.max_surge
                and len(starting) + len(available) < spec.replicas
            ):
                starting.append(self.start_replica())
            self._raise_failed(terminations)
            time.sleep(_POLL_SECONDS)
        for termination in terminations:
            termination.result()

    @staticmethod
    def _raise_failed(terminations: list[Future[None]]) -> None:
        for termination in terminations:
            if termination.done() and termination.exception() is not None:
                termination.result()

    def close(self) -> None:
        self._terminations.shutdown(wait=True, cancel_futures=True)
        for replica in self.replicas:
            if replica.service.process.poll() is None:
                replica.service.process.kill()
            replica.service.wait(timeout=30)

    def count_logged(self) -> None:
        """Per replica: requests it logged, and how many of those it answered with a 5xx."""
        for replica in self.replicas:
            for line in replica.service.log_path.read_bytes().splitlines():
                if b'"msg":"request"' not in line:
                    continue
                replica.timeline.requests_logged += 1
                if json.loads(line)["status"] >= HTTPStatus.INTERNAL_SERVER_ERROR:
                    replica.timeline.server_errors_logged += 1


def run_rollout(  # noqa: PLR0913 - keyword-only: what to roll, where, and how much load
    *,
    spec: RolloutSpec,
    card: ServiceCard,
    timings: Timings,
    workdir: Path,
    with_pre_stop: bool,
    min_requests: int = MIN_REQUESTS,
    connections: int = LOAD_CONNECTIONS,
) -> RunReport:
    """Start the replicas behind a fresh HAProxy, hold load through a full rollout, and measure it."""
    workdir.mkdir(parents=True, exist_ok=True)
    proxy = HAProxy(
        workdir, health_check=timings.health_check, idle_timeout_seconds=timings.idle_timeout_seconds
    )
    with proxy:
        rollout = _Rollout(
            proxy=proxy, spec=spec, timings=timings, workdir=workdir, with_pre_stop=with_pre_stop
        )
        try:
            old = rollout.start_initial()
            counters_before = proxy.frontend_counters()
            log_before = proxy.log_position()
            load = Wrk(
                proxy.url + card.paths.predict,
                connections=connections,
                method="POST",
                body=json.dumps(sample_row()),
                seconds=600,
                timeout_seconds=10,
                pause_ms=LOAD_PAUSE_MS,
            )
            with load:
                rollout.reset_clock()
                time.sleep(_WARM_UP_SECONDS)
                rollout_started = time.monotonic()
                at_start = proxy.frontend_counters()["req_tot"]
                rollout.replace_all(old)
                rollout_seconds = time.monotonic() - rollout_started
                during = proxy.frontend_counters()["req_tot"] - at_start
                time.sleep(_SETTLE_SECONDS)
                padding_deadline = time.monotonic() + _MAX_PADDING_SECONDS
                while (
                    proxy.frontend_counters()["req_tot"] - counters_before["req_tot"] < min_requests
                    and time.monotonic() < padding_deadline
                ):
                    time.sleep(0.1)
                load_seconds = rollout.now()
                result: WrkResult = load.stop()
            counters_after = proxy.frontend_counters()
        finally:
            rollout.close()
    rollout.count_logged()
    return RunReport(
        with_pre_stop=with_pre_stop,
        requests=result.requests,
        non2xx=result.non2xx,
        connect_errors=result.connect_errors,
        read_errors=result.read_errors,
        write_errors=result.write_errors,
        timeouts=result.timeouts,
        failed=result.failed,
        p50_ms=result.p50_us / 1000,
        p90_ms=result.p90_us / 1000,
        p99_ms=result.p99_us / 1000,
        max_ms=result.max_us / 1000,
        load_seconds=load_seconds,
        rollout_seconds=round(rollout_seconds, 3),
        requests_during_rollout=during,
        proxy={name: counters_after[name] - counters_before[name] for name in counters_after},
        proxy_abnormal=proxy.abnormal_requests(since=log_before),
        replicas=[replica.timeline for replica in rollout.replicas],
    )


def rehearse(
    *, manifests: Path = DEFAULT_MANIFESTS, time_scale: float = DEFAULT_TIME_SCALE, workdir: Path
) -> dict[str, Any]:
    """Both rollouts (with and without the preStop sleep); returns the report."""
    spec = load_rollout_spec(manifests)
    if spec.replicas < _MIN_REPLICAS:
        msg = f"{spec.source}: {spec.replicas} replica ({spec.replicas_from}); the rehearsal needs at least 2"
        raise RehearsalError(msg)
    card = load_service_card()
    timings = Timings.from_sources(spec, card, time_scale)
    runs = {}
    for with_pre_stop in (True, False):
        name = "with_pre_stop" if with_pre_stop else "without_pre_stop"
        runs[name] = run_rollout(
            spec=spec, card=card, timings=timings, workdir=workdir / name, with_pre_stop=with_pre_stop
        )
    return {
        "time_scale": time_scale,
        "deployment": asdict(spec) | {"container_env": spec.container_env},
        "timings_used": asdict(timings),
        "load": {
            "generator": "wrk",
            "connections": LOAD_CONNECTIONS,
            "request": f"POST {card.paths.predict}",
        },
        "acceptance": {"min_requests": MIN_REQUESTS, "max_failed": 0},
        "limits": [
            (
                "HAProxy stops routing to a drained server at once; an ALB takes a few seconds to stop "
                "routing to a deregistered target, which is what the preStop sleep covers in production. "
                "The rehearsal proves the sequence and the drain, not the ALB's propagation time."
            ),
            "Replicas are processes on one machine: no kube-proxy, no endpoint propagation, no node failure.",
        ],
        "runs": {name: asdict(run) | {"zero_downtime": run.zero_downtime} for name, run in runs.items()},
    }


def summary(report: dict[str, Any]) -> str:
    lines = [f"rolling replacement rehearsal (time scale {report['time_scale']:g}):"]
    for name, run in report["runs"].items():
        socket_errors = run["connect_errors"] + run["read_errors"] + run["write_errors"]
        lines.append(
            f"  {name:17} requests={run['requests']} (during rollout {run['requests_during_rollout']}) "
            f"non2xx={run['non2xx']} socket_errors={socket_errors}"
            f" timeouts={run['timeouts']} failed={run['failed']} p99={run['p99_ms']:.1f}ms "
            f"rollout={run['rollout_seconds']:.1f}s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--manifests", type=Path, default=DEFAULT_MANIFESTS, help="folder with the Deployment"
    )
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE, help="1 = real timings")
    parser.add_argument("--output", type=Path, required=True, help="JSON report to write")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as scratch:
        report = rehearse(manifests=args.manifests, time_scale=args.time_scale, workdir=Path(scratch))
    write_json(args.output, report)
    print(summary(report))  # noqa: T201 - the command's output
    print(f"report: {args.output}")  # noqa: T201
    with_pre_stop = report["runs"]["with_pre_stop"]
    ok = with_pre_stop["zero_downtime"] and with_pre_stop["requests"] >= MIN_REQUESTS
    if not ok:
        print("FAILED: the rollout with the preStop sleep lost requests or sent too few", file=sys.stderr)  # noqa: T201
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
