"""Request ids, the model-version header, Prometheus metrics and one JSON log line per request."""

from __future__ import annotations

import json
import re

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.settings import load_settings


def _log_records(capfd):
    return [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]


def test_every_response_carries_a_request_id_and_the_model_version(client, model):
    for method, path in (("GET", "/health"), ("GET", "/predict"), ("GET", "/nope"), ("DELETE", "/predict")):
        response = client.request(method, path)
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
        assert response.headers["x-model-version"] == model.version


def test_request_ids_are_unique_per_request(client):
    ids = {client.get("/health").headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


def test_a_client_request_id_is_echoed(client):
    response = client.get("/predict", headers={"X-Request-ID": "trace-42.abc"})
    assert response.headers["x-request-id"] == "trace-42.abc"


@pytest.mark.parametrize("unsafe", ["a" * 129, "has space", "new\\nline", "semi;colon", ""])
def test_an_unsafe_client_request_id_is_replaced(client, unsafe):
    response = client.get("/health", headers={"X-Request-ID": unsafe})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_one_json_log_line_per_request_with_the_request_fields(client, capfd):
    capfd.readouterr()
    client.get("/predict", headers={"X-Request-ID": "log-me"})
    client.post("/predict", content=b"{", headers={"content-type": "application/json"})
    records = [record for record in _log_records(capfd) if record.get("msg") == "request"]
    assert len(records) == 2
    first, second = records
    assert {"ts", "level", "method", "path", "status", "duration_ms", "request_id"} <= set(first)
    assert (first["method"], first["path"], first["status"], first["request_id"]) == (
        "GET",
        "/predict",
        200,
        "log-me",
    )
    assert (second["method"], second["status"]) == ("POST", 400)
    assert first["duration_ms"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])


def test_request_logging_can_be_turned_off(card, capfd):
    settings = load_settings({"PREDICTOR_LOG_REQUESTS": "false"}, card=card)
    with TestClient(app=create_app(settings, card=card)) as client:
        capfd.readouterr()
        client.get("/health")
    assert [record for record in _log_records(capfd) if record.get("msg") == "request"] == []


def _sample(text: str, metric: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith((metric + "{", metric + " ")):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_by_route_method_and_status(client):
    for _ in range(3):
        client.get("/predict")
    client.post("/predict", content=b"[]", headers={"content-type": "application/json"})
    client.get("/does-not-exist")
    text = client.get("/metrics").text
    requests = "predictor_http_requests_total"
    assert _sample(text, requests, route="/predict", method="GET", status="200") == 3
    assert _sample(text, requests, route="/predict", method="POST", status="422") == 1
    assert _sample(text, requests, route="unmatched", method="GET", status="404") == 1
    latency = "predictor_http_request_duration_seconds"
    assert f"# TYPE {latency} summary" in text, (
        "the CloudWatch agent drops histograms and publishes a summary's sum and count"
    )
    assert _sample(text, f"{latency}_count", route="/predict", method="GET") == 3
    assert _sample(text, f"{latency}_sum", route="/predict", method="GET") > 0


def test_metrics_expose_model_info_readiness_and_in_flight(client, lifecycle, model):
    text = client.get("/metrics").text
    assert _sample(text, "predictor_model_info", name=model.name, version=model.version) == 1
    assert _sample(text, "predictor_ready") == 1
    # The scrape itself is in flight while the gauge is read.
    assert _sample(text, "predictor_http_requests_in_flight") == 1
    lifecycle.begin_drain()
    assert _sample(client.get("/metrics").text, "predictor_ready") == 0


def test_metrics_content_type_is_prometheus_text(client):
    assert client.get("/metrics").headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_arbitrary_methods_do_not_grow_the_label_set(client):
    for index in range(5):
        client.request(f"X{index}", "/predict")
    text = client.get("/metrics").text
    assert (
        _sample(text, "predictor_http_requests_total", route="unmatched", method="OTHER", status="405") == 5
    )
    assert 'method="X0"' not in text


def test_metrics_can_be_turned_off(card):
    settings = load_settings({"PREDICTOR_METRICS_ENABLED": "false"}, card=card)
    with TestClient(app=create_app(settings, card=card)) as client:
        assert client.get("/metrics").status_code == 404
