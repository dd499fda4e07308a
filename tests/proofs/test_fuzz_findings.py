"""Regressions for what the fuzzing found in api/, pinned as fast in-process tests."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.service_card import load_service_card
from api.settings import load_settings


@pytest.fixture(scope="module")
def client():
    card = load_service_card()
    with TestClient(app=create_app(load_settings({}, card=card), card=card)) as test_client:
        yield test_client


def _methods(header: str) -> set[str]:
    return {method.strip() for method in header.split(",")}


def test_options_lists_every_method_a_path_serves(client):
    # schemathesis ST205: OPTIONS /predict said "GET, OPTIONS" although POST /predict is served
    # (litestar-org/litestar#4169: the automatic OPTIONS handler only knew the path's first handler).
    document = client.get(load_service_card().paths.openapi).json()
    for path, operations in document["paths"].items():
        documented = {method.upper() for method in operations} | {"OPTIONS"}
        response = client.options(path)
        assert response.status_code == 204, path
        assert _methods(response.headers["allow"]) == documented, path


def test_options_and_method_not_allowed_agree_on_allow(client):
    card = load_service_card()
    options = client.options(card.paths.predict)
    not_allowed = client.delete(card.paths.predict)
    assert not_allowed.status_code == 405
    assert _methods(options.headers["allow"]) == _methods(not_allowed.headers["allow"])
