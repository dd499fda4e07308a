"""POST /predict with API keys configured: 401 in the error shape unless a known bearer key is sent.

GET /predict, the probes, /metrics and the OpenAPI document stay open; without a key file POST is open
and the start-up log says so. No case is ever answered with a 5xx.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.settings import load_settings

KEY, OTHER_KEY = secrets.token_urlsafe(32), secrets.token_urlsafe(32)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def replace(path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "api-keys"
    path.write_text(f"# clients\n{KEY}\n", encoding="utf-8")
    return path


@pytest.fixture
def secured(card, key_file):
    settings = load_settings({"PREDICTOR_API_KEYS_FILE": str(key_file)}, card=card)
    with TestClient(app=create_app(settings, card=card)) as test_client:
        yield test_client


def assert_unauthorized(response, challenge: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"] == challenge
    body = response.json()
    assert (body["status"], body["error"]) == (401, "unauthorized")
    assert body["detail"]
    assert KEY not in response.text


def test_a_known_key_scores(secured, features):
    response = secured.post("/predict", json=features, headers=bearer(KEY))
    assert response.status_code == 200
    assert 0 <= response.json()["score"] <= 1


def test_no_key_is_refused_with_a_bearer_challenge(secured, features):
    response = secured.post("/predict", json=features)
    assert_unauthorized(response, "Bearer")
    assert "Authorization: Bearer <key>" in response.json()["detail"]


def test_an_unknown_key_is_refused(secured, features):
    assert_unauthorized(
        secured.post("/predict", json=features, headers=bearer(OTHER_KEY)), 'Bearer error="invalid_token"'
    )


@pytest.mark.parametrize(
    "authorization",
    [
        f"Basic {KEY}",
        "Bearer",
        "Bearer ",
        KEY,
        f"Bearer {KEY} extra",
        f"Bearer {KEY[:10]},{KEY[10:]}",
        "Bearer ünïcode-".encode("latin-1") + b"a" * 40,
    ],
    # Stable ids: the keys are random, and the ids must be the same in every pytest-xdist worker.
    ids=["basic-scheme", "no-token", "empty-token", "no-scheme", "extra-part", "comma", "not-ascii"],
)
def test_a_malformed_authorization_header_is_a_401_not_a_400(secured, features, authorization):
    response = secured.post("/predict", json=features, headers={"Authorization": authorization})
    assert_unauthorized(response, 'Bearer error="invalid_request"')


def test_two_authorization_headers_are_refused_even_if_one_is_right(secured, features):
    response = secured.post(
        "/predict", json=features, headers=[("Authorization", f"Bearer {KEY}"), ("Authorization", "Bearer x")]
    )
    assert_unauthorized(response, 'Bearer error="invalid_request"')


def test_the_scheme_is_case_insensitive(secured, features):
    assert (
        secured.post("/predict", json=features, headers={"Authorization": f"bearer {KEY}"}).status_code == 200
    )


def test_the_key_is_checked_before_the_body(secured):
    response = secured.post("/predict", content=b"{not json", headers={"content-type": "text/plain"})
    assert_unauthorized(response, "Bearer")


def test_get_endpoints_stay_open(secured, card):
    assert secured.get(card.paths.predict).json() == {"score": 0.75}
    assert secured.get(card.paths.liveness).json() == {"status": "ok"}
    for path in (card.paths.readiness, card.paths.metrics, card.paths.openapi):
        assert secured.get(path).status_code == 200, path
    assert secured.options(card.paths.predict).status_code == 204


def _until(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_rotated_key_takes_effect_without_a_restart(secured, key_file, features):
    replace(key_file, f"{OTHER_KEY}\n")
    assert _until(
        lambda: secured.post("/predict", json=features, headers=bearer(OTHER_KEY)).status_code == 200
    )
    assert_unauthorized(
        secured.post("/predict", json=features, headers=bearer(KEY)), 'Bearer error="invalid_token"'
    )


def test_a_key_file_deleted_after_start_keeps_the_last_keys(secured, key_file, features):
    key_file.unlink()
    time.sleep(1.2)  # past the check interval, so the missing file has been noticed
    assert secured.post("/predict", json=features, headers=bearer(KEY)).status_code == 200
    assert_unauthorized(
        secured.post("/predict", json=features, headers=bearer(OTHER_KEY)), 'Bearer error="invalid_token"'
    )
    assert_unauthorized(secured.post("/predict", json=features), "Bearer")


def test_the_openapi_document_declares_the_bearer_scheme_on_post_predict_only(secured, card):
    document = secured.get(card.paths.openapi).json()
    schemes = document["components"]["securitySchemes"]
    assert len(schemes) == 1
    [(name, scheme)] = schemes.items()
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    post = document["paths"][card.paths.predict]["post"]
    assert post["security"] == [{name: []}]
    assert "401" in post["responses"]
    unsecured = [
        (path, method)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if (path, method) != (card.paths.predict, "post")
    ]
    assert unsecured
    assert "security" not in document
    for path, method in unsecured:
        assert "security" not in document["paths"][path][method], (path, method)


def test_without_a_key_file_post_is_open_and_documented_so(client, card, features):
    assert client.post("/predict", json=features).status_code == 200
    assert client.post("/predict", json=features, headers=bearer(OTHER_KEY)).status_code == 200
    document = client.get(card.paths.openapi).json()
    assert "securitySchemes" not in document.get("components", {})
    assert "security" not in document["paths"][card.paths.predict]["post"]


def test_without_a_key_file_the_start_up_log_says_post_is_open(live_service):
    records = [json.loads(line) for line in live_service.log_lines() if line.startswith("{")]
    said = [record for record in records if "PREDICTOR_API_KEYS_FILE" in record.get("msg", "")]
    assert len(said) == 1, records
    assert said[0]["level"] == "warning"
    assert said[0]["msg"] == "POST /predict is open to every client: PREDICTOR_API_KEYS_FILE is not set"
