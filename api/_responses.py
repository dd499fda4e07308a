"""Minimal ASGI responses for the hot paths.

A handler annotated as returning an ASGI app has its result sent as-is by Litestar, skipping the
Response object, header normalisation and encoder lookup that a few fixed JSON bytes don't need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import Receive, Scope, Send

__all__ = ["FIXED_ANSWER", "JsonBytes"]

_JSON = b"application/json"
# A handler's ``opt`` key: a callable of no argument returning the JsonBytes the handler answers. Such a
# route is answered by the outermost layer without entering Litestar's router (api/_observability.py).
FIXED_ANSWER = "fixed_answer"


class JsonBytes:
    """An encoded JSON body with its status; immutable, so a fixed one can be reused for every request."""

    __slots__ = ("_body", "_headers", "_status")

    def __init__(self, body: bytes, status: int = 200) -> None:
        self._body = body
        self._status = status
        self._headers = ((b"content-type", _JSON), (b"content-length", str(len(body)).encode()))

    @property
    def body(self) -> bytes:
        return self._body

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> tuple[tuple[bytes, bytes], ...]:
        return self._headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002 - ASGI signature
        # Fresh messages each time: outer layers (our observability wrapper) add headers to them.
        await send({"type": "http.response.start", "status": self._status, "headers": list(self._headers)})
        await send({"type": "http.response.body", "body": self._body, "more_body": False})
