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
termination grace, drain budget, minReadySeconds) is multiplied by one factor.
The proof is about their order, which a common factor keeps: the load balancer stops routing before
SIGTERM, and the grace period outlasts preStop plus the drain. Counts (thresholds, replicas) and the
replicas' own start-up and request times are not scaled. ``--time-scale 1`` runs the real timings.
"""

from __future__ import annotations

import argparse
import json
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from http import HTTPStatus
from pathlib import Path
from typing import Any

from api.service_card import ServiceCard, load_service_card
from api.settings import ENV_PREFIX, Settings
from tools.common import REPO_ROOT, free_port, write_json
from tools.load.haproxy import BACKEND, HAProxy, HealthCheck
from tools.load.rollout_spec import RolloutSpec, load_rollout_spec
from tools.load.service import ServiceProcess, sample_row, start_service
from tools.load.wrk import Wrk

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
_WRK_COUNTS = ("requests", "non2xx", "connect_errors", "read_errors", "write_errors", "timeouts", "failed")
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
            min_ready_seconds=spec.min_ready_seconds * scale,
            idle_timeout_seconds=card.load_balancer.idle_timeout_seconds,
        )

    def replica_env(self, spec: RolloutSpec, workdir: Path, api_key: str) -> dict[str, str]:
        """The Deployment's environment, minus what each replica sets itself, with the drain scaled; a
        mounted file it names (the API keys the CSI driver mounts) is a stand-in holding ``api_key``."""
        own = {_variable("host"), _variable("port")}
        env = {name: value for name, value in spec.container_env.items() if name not in own}
        env[_variable("drain_seconds")] = f"{self.drain_seconds:g}"
        for name, value in env.items():
            if any(value.startswith(f"{path.rstrip('/')}/") for path in spec.mount_paths):
                stand_in = workdir / "mounted" / value.lstrip("/")
                stand_in.parent.mkdir(parents=True, exist_ok=True)
                stand_in.write_text(f"{api_key}\n", encoding="utf-8")
                env[name] = str(stand_in)
        return env


@dataclass
class ReplicaTimeline:
    """When a replica went through each step (None: never); reported as seconds since the load started."""

    name: str
    port: int
    service: ServiceProcess = field(repr=False)
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

    def report(self, zero: float) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "service"}
        return {key: round(v - zero, 3) if isinstance(v, float) else v for key, v in values.items()}

    def count_logged(self) -> None:
        """Requests the replica logged, and how many of those it answered with a 5xx."""
        for line in self.service.log_path.read_bytes().splitlines():
            if b'"msg":"request"' in line:
                self.requests_logged += 1
                self.server_errors_logged += json.loads(line)["status"] >= HTTPStatus.INTERNAL_SERVER_ERROR


@dataclass
class Rollout:
    """Carries out one rollout; every process it starts is stopped by ``close`` whatever happened."""

    proxy: HAProxy
    spec: RolloutSpec
    timings: Timings
    workdir: Path
    with_pre_stop: bool
    backend: str = BACKEND  # the target group the replicas are registered in
    command: list[str] | None = None  # what a replica runs; None: the service, ``python -m api``
    # The client's key, when the replicas require one (their key file is a stand-in holding it).
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    replicas: list[ReplicaTimeline] = field(default_factory=list)
    _terminations: ThreadPoolExecutor = field(default_factory=ThreadPoolExecutor)

    def _checks_seconds(self, threshold: int) -> float:
        check = self.timings.health_check
        return (threshold + 1) * (check.interval_seconds + check.timeout_seconds)

    def start_replica(self) -> ReplicaTimeline:
        name, port = f"{self.backend}-{len(self.replicas) + 1}", free_port()
        service = start_service(
            self.workdir / f"{name}.log",
            env=self.timings.replica_env(self.spec, self.workdir, self.api_key),
            port=port,
            wait=False,
            command=self.command,
        )
        replica = ReplicaTimeline(name=name, port=port, service=service, started=time.monotonic())
        self.replicas.append(replica)
        # The pod gets an IP and the load balancer controller registers it; its checks gate traffic.
        self.proxy.register(name, port, backend=self.backend)
        return replica

    def is_available(self, replica: ReplicaTimeline) -> bool:
        """Healthy in the load balancer (the readiness gate), admitted, and ready for minReadySeconds."""
        if (code := replica.service.process.poll()) is not None:
            msg = f"replica {replica.name} exited with {code} before it was ready"
            raise RehearsalError(msg)
        if replica.admitted is None:
            if not self.proxy.server(replica.name, backend=self.backend).healthy:
                # The kubelet would restart a container that misses its startup budget; allow that much.
                budget = (self.spec.startup_budget_seconds or 30.0) + self._checks_seconds(
                    self.timings.health_check.healthy_threshold
                )
                if time.monotonic() - (replica.started or 0) > budget:
                    msg = f"replica {replica.name} not healthy in the proxy within {budget:g} s"
                    raise RehearsalError(msg)
                return False
            replica.healthy = time.monotonic()
            self.proxy.admit(replica.name, backend=self.backend)
            replica.admitted = time.monotonic()
        return time.monotonic() - replica.admitted >= self.timings.min_ready_seconds

    def _terminate(self, replica: ReplicaTimeline) -> None:
        grace = self.timings.termination_grace_seconds
        if self.with_pre_stop:
            # The endpoint goes away and the load balancer controller deregisters the target, while the
            # preStop hook holds SIGTERM back.
            self.proxy.deregister(replica.name, backend=self.backend)
            replica.deregistered = time.monotonic()
            time.sleep(self.timings.pre_stop_seconds)
            grace -= self.timings.pre_stop_seconds
        replica.sigterm = time.monotonic()
        replica.service.process.send_signal(signal.SIGTERM)
        try:
            replica.exit_code = replica.service.wait(timeout=max(grace, 0.0))
        except subprocess.TimeoutExpired:
            replica.service.process.kill()
            replica.killed_after_grace = True
            replica.exit_code = replica.service.wait(timeout=30)
        replica.exited = time.monotonic()
        if not self.with_pre_stop:
            budget = self._checks_seconds(self.timings.health_check.unhealthy_threshold) + 5
            self.proxy.wait_until(replica.name, "down", timeout=budget, backend=self.backend)
            replica.marked_down_by_checks = time.monotonic()
        self.proxy.remove(replica.name, backend=self.backend)
        replica.removed = time.monotonic()

    def begin_termination(self, replica: ReplicaTimeline) -> Future[None]:
        replica.terminating = time.monotonic()
        return self._terminations.submit(self._terminate, replica)

    def scoring_load(
        self, card: ServiceCard, connections: int, *, pause_ms: int = 0, rate: float | None = None
    ) -> Wrk:
        """Authorized scoring requests through the proxy, paced by ``pause_ms`` or ``rate``, until stopped."""
        return Wrk(
            self.proxy.url + card.paths.predict,
            connections=connections,
            method="POST",
            body=json.dumps(sample_row()),
            seconds=600,
            timeout_seconds=10,
            pause_ms=pause_ms,
            rate=rate,
            headers=(f"Authorization: Bearer {self.api_key}",),
        )

    def start_initial(self) -> list[ReplicaTimeline]:
        replicas = [self.start_replica() for _ in range(self.spec.replicas)]
        while not all(self.is_available(r) for r in replicas):
            time.sleep(_POLL_SECONDS)
        return replicas

    def replace_all(self, old: list[ReplicaTimeline]) -> None:
        """The Deployment controller's loop, reduced to what a rolling update of one template does.

        Scale down old replicas while enough stay available (ready old + available new must not drop below
        replicas - maxUnavailable); scale up new ones while the total stays within replicas + maxSurge.
        Terminating replicas count toward neither, as in Kubernetes.
        """
        spec = self.spec
        old = list(old)
        starting: list[ReplicaTimeline] = []
        available: list[ReplicaTimeline] = []
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
            for termination in terminations:
                if termination.done():
                    termination.result()  # raises what went wrong in it
            time.sleep(_POLL_SECONDS)
        for termination in terminations:
            termination.result()

    def close(self) -> None:
        self._terminations.shutdown(wait=True, cancel_futures=True)
        for replica in self.replicas:
            if replica.service.process.poll() is None:
                replica.service.process.kill()
            replica.service.wait(timeout=30)


def run_rollout(
    *, spec: RolloutSpec, card: ServiceCard, timings: Timings, workdir: Path, with_pre_stop: bool
) -> dict[str, Any]:
    """Start the replicas behind a fresh HAProxy, hold load through a full rollout, and measure it."""
    workdir.mkdir(parents=True, exist_ok=True)
    proxy = HAProxy(
        workdir, health_check=timings.health_check, idle_timeout_seconds=timings.idle_timeout_seconds
    )
    with proxy:
        rollout = Rollout(
            proxy=proxy, spec=spec, timings=timings, workdir=workdir, with_pre_stop=with_pre_stop
        )
        try:
            old = rollout.start_initial()
            before, log_before = proxy.frontend_counters(), proxy.log_path.stat().st_size
            load = rollout.scoring_load(card, LOAD_CONNECTIONS, pause_ms=LOAD_PAUSE_MS)
            with load:
                load_started = time.monotonic()
                time.sleep(_WARM_UP_SECONDS)
                rollout_started, at_start = time.monotonic(), proxy.frontend_counters()["req_tot"]
                rollout.replace_all(old)
                rollout_seconds = time.monotonic() - rollout_started
                during = proxy.frontend_counters()["req_tot"] - at_start
                time.sleep(_SETTLE_SECONDS)
                padding_deadline = time.monotonic() + _MAX_PADDING_SECONDS
                while (
                    proxy.frontend_counters()["req_tot"] - before["req_tot"] < MIN_REQUESTS
                    and time.monotonic() < padding_deadline
                ):
                    time.sleep(0.1)
                load_seconds = time.monotonic() - load_started
                result = load.stop()
            after = proxy.frontend_counters()
        finally:
            rollout.close()
    for replica in rollout.replicas:
        replica.count_logged()
    replicas = [replica.report(load_started) for replica in rollout.replicas]
    clean_exits = all(r["exit_code"] in {None, 0} and not r["killed_after_grace"] for r in replicas)
    return {
        "with_pre_stop": with_pre_stop,
        **{key: getattr(result, key) for key in _WRK_COUNTS},
        **{f"{p}_ms": getattr(result, f"{p}_us") / 1000 for p in ("p50", "p90", "p99", "max")},
        "load_seconds": round(load_seconds, 3),
        "rollout_seconds": round(rollout_seconds, 3),
        "requests_during_rollout": during,  # from the proxy's counter, rollout start to last removal
        "proxy": {name: after[name] - before[name] for name in after},  # frontend counters, load window
        # Requests the proxy logged as not ending normally, by reason.
        "proxy_abnormal": proxy.abnormal_requests(since=log_before),
        "replicas": replicas,
        "zero_downtime": result.failed == 0 and clean_exits,
    }


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
        "deployment": asdict(spec),
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
        "runs": runs,
    }


def summary(report: dict[str, Any]) -> str:
    lines = [f"rolling replacement rehearsal (time scale {report['time_scale']:g}):"]
    for name, run in report["runs"].items():
        counts = " ".join(f"{key}={run[key]}" for key in _WRK_COUNTS)
        lines.append(
            f"  {name:17} {counts} p99={run['p99_ms']:.1f}ms rollout={run['rollout_seconds']:.1f}s "
            f"(requests during it {run['requests_during_rollout']})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE, help="1 = real timings")
    parser.add_argument("--output", type=Path, required=True, help="JSON report to write")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as scratch:
        report = rehearse(time_scale=args.time_scale, workdir=Path(scratch))
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
