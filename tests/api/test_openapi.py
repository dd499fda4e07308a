"""The served OpenAPI document describes every endpoint, the request body and every error shape."""

from __future__ import annotations

import pytest


@pytest.fixture
def document(client, card):
    response = client.get(card.paths.openapi)
    assert response.status_code == 200
    return response.json()


def _resolve(document, schema):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
    return schema


def test_every_route_is_documented(document, card):
    paths = document["paths"]
    assert set(paths) == {card.paths.liveness, card.paths.readiness, card.paths.predict, card.paths.metrics}
    assert set(paths[card.paths.predict]) == {"get", "post"}


def test_post_predict_documents_row_and_batch_bodies(document, model, settings):
    body = document["paths"]["/predict"]["post"]["requestBody"]
    assert body["required"] is True
    row, batch = body["content"]["application/json"]["schema"]["oneOf"]
    assert row["required"] == list(model.feature_names)
    assert row["additionalProperties"] is False
    assert all(row["properties"][name]["type"] == "number" for name in model.feature_names)
    instances = batch["properties"]["instances"]
    assert (instances["minItems"], instances["maxItems"]) == (1, settings.max_batch_size)


def test_post_predict_documents_each_error_status_with_the_error_shape(document):
    responses = document["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "408", "413", "415", "422"} <= set(responses)
    for status in ("400", "408", "413", "415", "422"):
        schema = _resolve(document, responses[status]["content"]["application/json"]["schema"])
        assert {"status", "error", "detail"} <= set(schema["properties"])
        assert "field" in schema["properties"]


def test_get_predict_and_probes_document_their_bodies(document):
    paths = document["paths"]
    score = _resolve(
        document, paths["/predict"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert score["properties"]["score"]["type"] == "number"
    health = _resolve(
        document, paths["/health"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    )
    assert "status" in health["properties"]
    assert {"200", "503"} <= set(paths["/ready"]["get"]["responses"])
