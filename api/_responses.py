"""Minimal ASGI responses: an encoded body with its status and headers, sent as-is.

The service's own routes answer with these (api/answers.py), without building a framework response,
normalising headers or looking up an encoder for a few bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import Receive, Scope, Send

__all__ = ["Answer", "EncodedResponse"]

_JSON = b"application/json"


class EncodedResponse:
    """An encoded body (JSON unless told) with its status; immutable, so a fixed one serves every request."""

    __slots__ = ("_body", "_headers", "_status")

    def __init__(
        self,
        body: bytes,
        status: int = 200,
        *,
        content_type: bytes = _JSON,
        headers: Iterable[tuple[bytes, bytes]] = (),
    ) -> None:
        self._body = body
        self._status = status
        self._headers = (
            *headers,
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
        )

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


# What a route of the service does with a request: its ASGI scope and receive channel in, a response out.
Answer = Callable[["Scope", "Receive"], Awaitable[EncodedResponse]]
