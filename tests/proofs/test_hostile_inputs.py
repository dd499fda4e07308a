"""A table of hostile requests sent over raw sockets to the real server, each with the answer it must get.

The server runs with production settings except the body timeout, which is shortened so that the slow
clients take seconds rather than the production ten each. After every case the server must still answer
/health; at the end its log must hold no 5xx and no error. The table is in _hostile_catalogue.py; the
outcomes go to build/proofs/hostile-inputs.json.
"""

from __future__ import annotations

import json
import time

import pytest

from api.service_card import load_service_card
from api.settings import load_settings
from tests.proofs._hostile_catalogue import catalogue
from tests.proofs._raw_http import exchange
from tools.load.service import get, running_service

pytestmark = [pytest.mark.slow, pytest.mark.alone]

ENV = {"PREDICTOR_BODY_TIMEOUT_SECONDS": "1"}
SETTINGS = load_settings(ENV)
CARD = load_service_card()
CASES = catalogue(SETTINGS, CARD.paths.predict)
_OUTCOMES: dict[str, dict[str, object]] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory, publish):
    with running_service(tmp_path_factory.mktemp("hostile") / "service.log", env=ENV) as service:
        yield service
    slowest = max(_OUTCOMES.values(), key=lambda outcome: outcome["seconds"], default={"seconds": 0})
    report = {
        "settings": {
            "max_body_bytes": SETTINGS.max_body_bytes,
            "body_timeout_seconds": SETTINGS.body_timeout_seconds,
        }
    }
    report["cases"] = _OUTCOMES
    publish(
        "hostile-inputs",
        report,
        f"hostile inputs: {len(_OUTCOMES)} of {len(CASES)} cases run, "
        f"{sum(1 for o in _OUTCOMES.values() if o['as_expected'])} answered as expected, "
        f"slowest {slowest['seconds']:.2f} s",
    )


def _logged(service, request_id: str, *, wait: float = 3.0) -> list[dict]:
    deadline = time.monotonic() + wait
    while True:
        lines = [json.loads(line) for line in service.log_lines() if f'"request_id":"{request_id}"' in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_request_gets_its_documented_answer(server, case):
    outcome: dict[str, object] = {"expected": case.status, "why": case.why, "as_expected": False}
    _OUTCOMES[case.id] = outcome
    started = time.monotonic()
    response = exchange(server.port, case.steps, leave_early=case.status is None)
    outcome["seconds"] = round(time.monotonic() - started, 3)
    if response is None:
        logged = _logged(server, case.request_id, wait=3.0 if case.logged_status else 0.5)
        outcome |= {"got": "client left", "logged": [line["status"] for line in logged]}
        if case.logged_status is None:
            assert logged == []
        else:
            assert [line["status"] for line in logged] == [case.logged_status]
    else:
        outcome |= {"got": response.status, "closed": response.closed}
        assert response.status == case.status, response.raw_head[:300]
        if case.error is not None:
            error = response.json()
            assert (error["status"], error["error"], error.get("field")) == (
                case.status,
                case.error,
                case.field,
            )
            assert error["detail"]
        if case.closes:
            assert response.closed, "the server must close a connection whose input it did not read"
        if case.status == 408:
            # The body timeout, not some other limit, ended it; and it did end it.
            assert SETTINGS.body_timeout_seconds <= response.elapsed < SETTINGS.body_timeout_seconds + 5
    assert get(server.port, "/health", timeout=5)[0] == 200, "the server must keep serving"
    assert server.process.poll() is None
    outcome["as_expected"] = True


def test_the_server_logged_no_server_error_through_the_catalogue(server):
    lines = [json.loads(line) for line in server.log_lines() if line.startswith("{")]
    assert [line for line in lines if line.get("status", 0) >= 500] == []
    assert [line for line in lines if line.get("level") == "error"] == []
    assert server.process.poll() is None
