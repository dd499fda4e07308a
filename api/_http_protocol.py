"""uvicorn's httptools protocol with a bound on the request head (request line and headers).

httptools buffers a header of any size, joining its pieces as they arrive, so one request carrying a
header of tens of megabytes held the event loop for seconds (a 96 MiB header: 20 s of parsing, during
which /health went unanswered for 7 s) and its memory. uvicorn bounds the head only in its h11
implementation. This one counts the head's bytes before httptools sees them and answers 431 past
``MAX_HEAD_BYTES``: the ALB's quota for an entire request header is 64K (docs.aws.amazon.com/
elasticloadbalancing/latest/application/load-balancer-limits.html), so nothing the ALB forwards is refused.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import ErrorBody

__all__ = ["MAX_HEAD_BYTES", "BoundedHttpToolsProtocol"]

MAX_HEAD_BYTES = 64 * 1024
_END_OF_HEAD = b"\r\n\r\n"
_log = logging.getLogger("api.server")
_BODY = msgspec.json.encode(
    ErrorBody(
        status=431,
        error="headers_too_large",
        detail=f"request line and headers exceed {MAX_HEAD_BYTES} bytes",
        field="headers",
    )
)
_REFUSAL = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
    b"content-length: %d\r\nconnection: close\r\n\r\n" % len(_BODY)
) + _BODY


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - uvicorn's own signature
        super().__init__(*args, **kwargs)
        self._head_bytes: int | None = 0  # None while the current request's body is being read

    def data_received(self, data: bytes) -> None:
        if self._head_bytes is not None:
            end = data.find(_END_OF_HEAD)
            self._head_bytes += len(data) if end < 0 else end + len(_END_OF_HEAD)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse()
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._head_bytes = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_bytes = 0

    def _refuse(self) -> None:
        client = "%s:%d" % self.client if self.client else "unknown client"  # noqa: UP031 - uvicorn's form
        _log.warning("%s: request head over %d bytes, refused with 431", client, MAX_HEAD_BYTES)
        self._head_bytes = None
        self.transport.write(_REFUSAL)
        self.transport.close()
