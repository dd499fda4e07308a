from __future__ import annotations

import pytest

from tools.load.service import get


def test_ready_names_the_model(client, model):
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "model": {"name": model.name, "version": model.version}}


def test_ready_is_503_with_a_reason_while_draining_and_liveness_stays_200(client, lifecycle):
    lifecycle.begin_drain()
    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "draining"
    assert "shutting down" in body["reason"]
    assert client.get("/health").status_code == 200


def test_draining_responses_ask_the_client_to_close(client, lifecycle):
    assert client.get("/health").headers.get("connection") != "close"
    lifecycle.begin_drain()
    assert client.get("/health").headers["connection"] == "close"


@pytest.mark.slow
def test_ready_over_a_real_server(live_service):
    status, body = get(live_service.port, "/ready")
    assert status == 200
    assert b'"status":"ready"' in body
