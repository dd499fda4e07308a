"""POST /predict: real scoring, and a named 4xx for every class of bad input (never a 5xx)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.errors import MAX_DETAIL_CHARS, MAX_FIELD_CHARS
from api.settings import load_settings

JSON = {"content-type": "application/json"}


def _post(client, body: bytes, headers=JSON):
    return client.post("/predict", content=body, headers=headers)


def test_single_row_scores_in_unit_interval_with_model_version(client, features, model):
    response = client.post("/predict", json=features)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"score", "model_version"}
    assert body["model_version"] == model.version
    assert 0.0 <= body["score"] <= 1.0
    assert body["score"] == pytest.approx(model.score(tuple(features[name] for name in model.feature_names)))


def test_row_at_the_baseline_scores_like_get_predict(client, model):
    baseline = dict(zip(model.feature_names, model.baseline, strict=True))
    assert client.post("/predict", json=baseline).json()["score"] == 0.75


def test_integers_are_accepted_as_numbers(client, features):
    ints = {name: int(value) for name, value in features.items()}
    assert client.post("/predict", json=ints).status_code == 200


def test_batch_scores_each_row_in_order(client, features, model):
    rows = [features, {**features, "tenure_months": 60.0}, {**features, "support_tickets": 0.0}]
    response = client.post("/predict", json={"instances": rows})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == model.version
    expected = [model.score(tuple(row[name] for name in model.feature_names)) for row in rows]
    assert body["scores"] == pytest.approx(expected)
    assert len(set(body["scores"])) == 3


def test_batch_at_the_configured_limit_is_accepted(client, features, settings):
    response = client.post("/predict", json={"instances": [features] * settings.max_batch_size})
    assert response.status_code == 200
    assert len(response.json()["scores"]) == settings.max_batch_size


def test_batch_limit_is_configurable(features, card):
    settings = load_settings({"PREDICTOR_MAX_BATCH_SIZE": "2"}, card=card)
    with TestClient(app=create_app(settings, card=card)) as client:
        assert client.post("/predict", json={"instances": [features] * 2}).status_code == 200
        response = client.post("/predict", json={"instances": [features] * 3})
    assert response.status_code == 422
    assert response.json()["field"] == "instances"


def _with(features, **changes):
    return json.dumps({**features, **changes}).encode()


def _without(features, name):
    return json.dumps({key: value for key, value in features.items() if key != name}).encode()


F = {"tenure_months": 3.0, "monthly_spend": 90.0, "support_tickets": 4.0, "days_since_login": 30.0}
ROW = json.dumps(F)


@dataclass(frozen=True)
class BadInput:
    id: str
    body: bytes
    status: int
    field: str
    words: str  # the detail must contain these, so the client learns what was wrong
    content_type: str | None = "application/json"


BAD_INPUTS = [
    BadInput("malformed-json", b'{"tenure_months": 3,', 400, "body", "malformed JSON"),
    BadInput("empty-body", b"", 400, "body", "empty"),
    BadInput("whitespace-body", b"  \n ", 400, "body", "empty"),
    BadInput("invalid-utf8", b'{"tenure_months": "\xff"}', 400, "body", "UTF-8"),
    BadInput("deep-nesting", b"[" * 50_000 + b"]" * 50_000, 400, "body", "nesting"),
    BadInput("string-feature", _with(F, monthly_spend="90"), 422, "monthly_spend", "float"),
    BadInput("bool-feature", _with(F, support_tickets=True), 422, "support_tickets", "bool"),
    BadInput("null-feature", _with(F, support_tickets=None), 422, "support_tickets", "null"),
    BadInput("missing-feature", _without(F, "days_since_login"), 422, "days_since_login", "missing"),
    BadInput("unknown-feature", _with(F, age=40), 422, "age", "unknown"),
    BadInput("nan", ROW.replace("3.0", "NaN").encode(), 422, "tenure_months", "finite"),
    BadInput("infinity", ROW.replace("90.0", "Infinity").encode(), 422, "monthly_spend", "finite"),
    BadInput("minus-infinity", ROW.replace("4.0", "-Infinity").encode(), 422, "support_tickets", "finite"),
    BadInput("float-overflow", ROW.replace("30.0", "1e400").encode(), 422, "days_since_login", "finite"),
    BadInput("int-overflow", ROW.replace("30.0", "9" * 400).encode(), 422, "days_since_login", "finite"),
    BadInput("int-past-digit-limit", ROW.replace("3.0", "9" * 5000).encode(), 422, "tenure_months", "finite"),
    BadInput("top-level-array", b"[1, 2]", 422, "body", "JSON object"),
    BadInput("top-level-number", b"0.5", 422, "body", "JSON object"),
    BadInput("empty-batch", b'{"instances": []}', 422, "instances", "length >= 1"),
    BadInput("batch-not-array", b'{"instances": {"a": 1}}', 422, "instances", "array"),
    BadInput(
        "batch-row-missing",
        f'{{"instances": [{ROW}, {{"tenure_months": 1}}]}}'.encode(),
        422,
        "instances[1].monthly_spend",
        "missing",
    ),
    BadInput(
        "batch-row-wrong-type", f'{{"instances": [{ROW}, [1, 2]]}}'.encode(), 422, "instances[1]", "object"
    ),
    BadInput("batch-extra-key", f'{{"instances": [{ROW}], "x": 1}}'.encode(), 422, "x", "unknown"),
    BadInput("text-plain", ROW.encode(), 415, "content-type", "application/json", "text/plain"),
    BadInput(
        "form-urlencoded",
        b"tenure_months=3",
        415,
        "content-type",
        "application/json",
        "application/x-www-form-urlencoded",
    ),
    BadInput("no-content-type", ROW.encode(), 415, "content-type", "none", None),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case.id for case in BAD_INPUTS])
def test_bad_input_gets_a_named_4xx(client, case):
    headers = {} if case.content_type is None else {"content-type": case.content_type}
    response = _post(client, case.body, headers)
    assert response.status_code == case.status, response.text
    error = response.json()
    assert error["status"] == case.status
    assert error["field"] == case.field
    assert case.words.lower() in error["detail"].lower()
    assert error["error"]


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({**F, "k" * 500_000: 1}).encode(),  # unknown key
        ("{" + f'"{"k" * 1000}": NaN' + "}").encode(),  # non-finite value under a huge key
        ('{"instances": [{' + f'"{"k" * 1000}": 1e999' + "}]}").encode(),  # the same, in a batch
    ],
    ids=["unknown-key", "non-finite", "non-finite-in-batch"],
)
def test_a_huge_client_key_is_not_echoed_back_in_full(client, body):
    response = _post(client, body)
    assert response.status_code == 422
    error = response.json()
    assert error["field"].endswith("...")
    assert len(error["field"]) <= MAX_FIELD_CHARS + 3
    assert len(error["detail"]) <= MAX_DETAIL_CHARS + 3
    assert len(response.content) < 1024


def test_json_with_charset_parameter_is_accepted(client, features):
    headers = {"content-type": "application/json; charset=utf-8"}
    assert _post(client, json.dumps(features).encode(), headers).status_code == 200


def test_batch_over_the_limit_names_instances(client, features, settings):
    body = json.dumps({"instances": [features] * (settings.max_batch_size + 1)}).encode()
    response = _post(client, body)
    assert response.status_code == 422
    assert response.json()["field"] == "instances"
    assert f"<= {settings.max_batch_size}" in response.json()["detail"]


def test_body_over_the_configured_limit_is_413_and_closes_the_connection(card, features):
    settings = load_settings({"PREDICTOR_MAX_BODY_BYTES": "2048"}, card=card)
    with TestClient(app=create_app(settings, card=card)) as client:
        ok = _post(client, json.dumps(features).encode())
        response = _post(client, b'{"tenure_months": "' + b"x" * 4096 + b'"}')
    assert ok.status_code == 200
    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert "2048-byte limit" in response.json()["detail"]
    assert response.headers["connection"] == "close"


def test_unknown_route_and_method_are_json_4xx(client):
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong_method = client.delete("/predict")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


def test_scores_stay_finite_at_extreme_but_finite_inputs(client, features):
    for value in (1e308, -1e308, 1e-308):
        response = client.post("/predict", json={**features, "days_since_login": value})
        assert response.status_code == 200
        assert math.isfinite(response.json()["score"])
        assert 0.0 <= response.json()["score"] <= 1.0
