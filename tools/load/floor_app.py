"""The floor: a raw ASGI app answering GET /predict with fixed bytes, no framework, no instrumentation.

Served by the same uvicorn (uvloop, httptools) as the service, it shows what the server alone costs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

_BODY = b'{"score":0.75}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]


async def app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[dict[str, Any]]],  # noqa: ARG001 - raw ASGI: the request is not read
    send: Callable[[dict[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
