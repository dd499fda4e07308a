"""SIGTERM with requests in flight: readiness turns 503 at once, in-flight requests complete, then exit 0."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.support.slow_request import SlowRequest
from tools.load.service import LOOPBACK, get, start_service

pytestmark = pytest.mark.slow

ROW = json.dumps(
    {"tenure_months": 3, "monthly_spend": 90, "support_tickets": 4, "days_since_login": 30}
).encode()


def test_sigterm_drains_in_flight_requests_then_exits_cleanly(tmp_path):
    service = start_service(tmp_path / "service.log", env={"PREDICTOR_DRAIN_SECONDS": "10"})
    in_flight = [SlowRequest(service.port, "/predict", ROW) for _ in range(5)]
    time.sleep(0.3)  # let the server accept and start reading each one

    signalled = time.monotonic()
    service.process.send_signal(15)
    time.sleep(0.3)
    status, body = get(service.port, "/ready")
    assert status == 503
    assert json.loads(body)["status"] == "draining"
    assert get(service.port, "/health")[0] == 200, "liveness must hold while draining"
    assert service.process.poll() is None, "the server must wait for in-flight requests"

    responses = [request.finish() for request in in_flight]
    for response in responses:
        assert response.startswith(b"HTTP/1.1 200 "), response[:200]
        assert b'"score":' in response
        assert b"connection: close" in response.lower()

    assert service.wait(timeout=15) == 0
    assert time.monotonic() - signalled < 10
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((LOOPBACK, service.port), timeout=2)
    assert any("draining for up to 10 s" in line for line in service.log_lines())


def test_a_stuck_request_cannot_hold_the_process_past_the_drain_budget(tmp_path):
    env = {"PREDICTOR_DRAIN_SECONDS": "1", "PREDICTOR_BODY_TIMEOUT_SECONDS": "60"}
    service = start_service(tmp_path / "service.log", env=env)
    stuck = SlowRequest(service.port, "/predict", ROW)
    time.sleep(0.3)
    signalled = time.monotonic()
    service.process.send_signal(15)
    assert service.wait(timeout=15) == 0
    elapsed = time.monotonic() - signalled
    stuck.abandon()
    # Budget (1 s) plus the final wait for open connections (1 s) plus process teardown.
    assert elapsed < 4, f"took {elapsed:.1f} s"


def test_an_idle_server_exits_promptly_on_sigterm(tmp_path):
    service = start_service(tmp_path / "service.log")
    signalled = time.monotonic()
    assert service.terminate(timeout=15) == 0
    assert time.monotonic() - signalled < 2
