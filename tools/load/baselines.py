"""What ``make bench`` compares the service with, served by the same uvicorn (uvloop, httptools).

``floor``: a raw ASGI app answering GET /predict with fixed bytes, no framework: what the server alone
costs. ``fastapi``: a bare FastAPI app with the same two GET endpoints, the comparison the targets name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

_BODY = b'{"score":0.75}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def floor(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],  # noqa: ARG001 - raw ASGI: the request is not read
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
        await send({"type": "http.response.body", "body": _BODY})


fastapi = FastAPI()


@fastapi.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@fastapi.get("/predict")
async def predict() -> dict[str, float]:
    return {"score": 0.75}
