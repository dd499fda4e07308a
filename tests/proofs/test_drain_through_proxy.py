"""SIGTERM lands on a replica behind the proxy while slow requests are in flight on it: all of them finish.

tests/api/test_shutdown.py proves the drain against the process alone; here the requests travel through
HAProxy as they would through the ALB, the replica has just been deregistered (the pod is being deleted),
and the proxy's own health checks must see ``/ready`` turn 503 while the other replica takes new traffic.

The drain budget is the Deployment's own (PREDICTOR_DRAIN_SECONDS from dist/); the health checks run at
a quarter of the target group's timings so the proxy notices within a few seconds, well inside that budget
(at the real ones, two failed checks five seconds apart would take as long as the whole budget; in
production the preStop sleep has taken the target out long before SIGTERM, so nothing waits on them).
"""

from __future__ import annotations

import json
import secrets
import signal
import time

import pytest

from api.service_card import load_service_card
from tests.support.slow_request import SlowRequest
from tools.load.haproxy import HAProxy
from tools.load.rehearsal import DEFAULT_MANIFESTS, Timings
from tools.load.rollout_spec import load_rollout_spec
from tools.load.service import get, sample_row, start_service

pytestmark = [pytest.mark.slow, pytest.mark.system, pytest.mark.alone]

IN_FLIGHT = 6
CHECK_SCALE = 0.25


@pytest.fixture
def timings():
    spec = load_rollout_spec(DEFAULT_MANIFESTS)
    card = load_service_card()
    real = Timings.from_sources(spec, card, 1.0)
    scaled = Timings.from_sources(spec, card, CHECK_SCALE)
    return spec, card, real, scaled


def test_in_flight_requests_complete_through_the_proxy_when_sigterm_lands(
    haproxy,  # noqa: ARG001 - must be installed
    timings,
    publish,
    tmp_path,
):
    spec, card, real, scaled = timings
    key = secrets.token_urlsafe(32)  # the replicas' key file (a stand-in for the CSI mount) holds it
    env = real.replica_env(spec, tmp_path, key)
    body = json.dumps(sample_row()).encode()
    with HAProxy(
        tmp_path, health_check=scaled.health_check, idle_timeout_seconds=real.idle_timeout_seconds
    ) as proxy:
        leaving = start_service(tmp_path / "leaving.log", env=env)
        staying = start_service(tmp_path / "staying.log", env=env)
        try:
            proxy.register("leaving", leaving.port)
            proxy.register("staying", staying.port)
            proxy.wait_until("leaving", "healthy", timeout=15)
            proxy.wait_until("staying", "healthy", timeout=15)
            # Only the leaving replica is in rotation while the slow requests arrive, so they all land there.
            proxy.admit("leaving")
            in_flight = [SlowRequest(proxy.port, card.paths.predict, body, key=key) for _ in range(IN_FLIGHT)]
            deadline = time.monotonic() + 10
            while proxy.server("leaving").current_sessions < IN_FLIGHT and time.monotonic() < deadline:
                time.sleep(0.02)
            assert proxy.server("leaving").current_sessions == IN_FLIGHT
            proxy.admit("staying")

            # The pod is deleted: the target is deregistered and the process gets SIGTERM.
            proxy.deregister("leaving")
            leaving.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()

            status, readiness = get(leaving.port, card.paths.readiness)
            assert (status, json.loads(readiness)["status"]) == (503, "draining")
            check = scaled.health_check
            status_seen_at = time.monotonic() - signalled
            seen = proxy.wait_until(
                "leaving",
                "down",
                timeout=(check.unhealthy_threshold + 1) * (check.interval_seconds + check.timeout_seconds),
            )
            proxy_down_after = time.monotonic() - signalled
            assert (seen.check_status, seen.check_code) == ("L7STS", "503"), seen
            assert leaving.process.poll() is None, "the replica must wait for its in-flight requests"

            for _ in range(20):
                status, _ = get(proxy.port, card.paths.predict)
                assert status == 200, "new requests go to the replica that stays"

            responses = [request.finish() for request in in_flight]
            for response in responses:
                assert response.startswith(b"HTTP/1.1 200 "), response[:300]
                assert b'"score":' in response

            completed_after = time.monotonic() - signalled
            assert leaving.wait(timeout=real.termination_grace_seconds) == 0
            exited_after = time.monotonic() - signalled
            assert exited_after < real.drain_seconds, "the drain ended when the work did, not at its budget"
            assert proxy.abnormal_requests() == {}
            served = [json.loads(line) for line in leaving.log_lines() if '"msg":"request"' in line]
            assert (
                sum(1 for r in served if r["path"] == card.paths.predict and r["status"] == 200) == IN_FLIGHT
            )
            # The only 5xx allowed is readiness saying "draining" to the health checks.
            assert all(r["status"] < 500 for r in served if r["path"] != card.paths.readiness)
            assert any(r["status"] == 503 for r in served if r["path"] == card.paths.readiness)
            numbers = {
                "in_flight_at_sigterm": IN_FLIGHT,
                "completed_with_200": IN_FLIGHT,
                "ready_503_directly_after_s": round(status_seen_at, 3),
                "proxy_marked_down_after_s": round(proxy_down_after, 3),
                "in_flight_completed_after_s": round(completed_after, 3),
                "exited_after_s": round(exited_after, 3),
                "exit_code": 0,
                "drain_budget_s": real.drain_seconds,
                "health_check": vars(scaled.health_check),
            }
            publish(
                "drain",
                numbers,
                f"drain through the proxy: {IN_FLIGHT} in-flight requests all 200 after SIGTERM; the proxy "
                f"saw /ready 503 and marked the replica down after {proxy_down_after:.2f} s; exit 0 after "
                f"{exited_after:.2f} s (budget {real.drain_seconds:g} s)",
            )
        finally:
            for replica in (leaving, staying):
                replica.terminate(timeout=real.termination_grace_seconds)
