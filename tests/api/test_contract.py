"""The contract that must never break, checked in-process and over a real uvicorn process."""

from __future__ import annotations

import pytest

from tools.load.service import get


def test_health_is_exactly_status_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.content == b'{"status":"ok"}'
    assert response.headers["content-type"] == "application/json"


def test_get_predict_is_exactly_the_baseline_score(client):
    response = client.get("/predict")
    assert response.status_code == 200
    assert response.content == b'{"score":0.75}'


def test_get_predict_is_the_models_score_of_its_baseline(model):
    assert model.score(model.baseline) == 0.75


@pytest.mark.slow
@pytest.mark.parametrize(("path", "body"), [("/health", b'{"status":"ok"}'), ("/predict", b'{"score":0.75}')])
def test_contract_over_a_real_server(live_service, path, body):
    assert get(live_service.port, path) == (200, body)
