"""Regressions for what the fuzzing found in api/, pinned as fast in-process tests."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.service_card import load_service_card
from api.settings import load_settings
from tools.load.service import LOOPBACK, get, running_service


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


def _exchange(port, request: bytes, *, timeout: float = 30) -> bytes:
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may close before it has read everything
            sock.sendall(request)
        response = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                response += chunk
    return response


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("findings") / "service.log") as service:
        yield service


@pytest.mark.slow
@pytest.mark.parametrize("size", [1 << 20, 32 << 20], ids=["1MiB", "32MiB"])
def test_an_enormous_request_head_is_refused_with_431_and_the_server_keeps_answering(live, size):
    # The hostile-input catalogue found that httptools buffered a header of any size, joining its pieces
    # as they came: one 96 MiB header kept /health from answering for 7 s (and its memory was held).
    started = time.monotonic()
    response = _exchange(live.port, b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * size + b"\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 431 "), response[:200]
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    error = json.loads(body)
    assert (error["status"], error["error"], error["field"]) == (431, "headers_too_large", "headers")
    assert time.monotonic() - started < 10
    assert get(live.port, "/health")[0] == 200


@pytest.mark.slow
def test_a_request_head_just_under_the_limit_is_still_served(live):
    header = b"X-Large: " + b"a" * 60_000 + b"\r\n"
    response = _exchange(
        live.port, b"GET /health HTTP/1.1\r\nHost: t\r\n" + header + b"Connection: close\r\n\r\n"
    )
    assert response.startswith(b"HTTP/1.1 200 "), response[:200]
