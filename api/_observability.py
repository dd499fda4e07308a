"""Outermost ASGI layer: request ids, model-version header, metrics, access log, in-flight count.

It wraps Litestar's exception-handling router rather than sitting in Litestar's middleware stack,
because that stack runs only for matched routes and would miss 404s and 405s.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING

from api._logs import JsonLineWriter, timestamp
from api._metrics import Metrics
from api._responses import JsonBytes
from api.lifecycle import Lifecycle

__all__ = ["ObservabilityMiddleware"]

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from litestar.types import ASGIApp, Message, Receive, Scope, Send

# Echo only ids that are safe to put back in a header and in a log line.
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:@/+=-]{1,128}$")
_UNMATCHED_ROUTE = "unmatched"


def _request_id(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    for name, value in headers:
        if name == b"x-request-id" and _VALID_REQUEST_ID.match(value):
            return value
    return os.urandom(16).hex().encode()


class ObservabilityMiddleware:
    """``fixed`` maps (method, path) to a route's FIXED_ANSWER (api/_responses.py): those requests are
    answered here, without Litestar's router, and counted and logged exactly like the others."""

    __slots__ = ("_app", "_fixed", "_lifecycle", "_log", "_metrics", "_model_version")

    def __init__(  # noqa: PLR0913 - keyword-only parts of one layer
        self,
        app: ASGIApp,
        *,
        model_version: str,
        lifecycle: Lifecycle,
        metrics: Metrics | None,
        log: JsonLineWriter | None,
        fixed: Mapping[tuple[str, str], Callable[[], JsonBytes]],
    ) -> None:
        self._app = app
        self._model_version = model_version.encode()
        self._lifecycle = lifecycle
        self._metrics = metrics
        self._log = log
        self._fixed = fixed

    def _headers(self, base: Iterable[tuple[bytes, bytes]], request_id: bytes) -> list[tuple[bytes, bytes]]:
        extended = [*base, (b"x-request-id", request_id), (b"x-model-version", self._model_version)]
        if self._lifecycle.draining:
            # Ask keep-alive clients (and the load balancer) to reconnect elsewhere.
            extended.append((b"connection", b"close"))
        return extended

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]  # ScopeType is a str enum
            await self._app(scope, receive, send)
            return
        method: str = scope["method"]  # type: ignore[typeddict-item]  # an http scope, checked above
        path = scope["path"]
        started = time.perf_counter()
        request_id = _request_id(scope["headers"])
        fixed = self._fixed.get((method, path))
        status = 500  # what the client sees if the app fails before it starts a response

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = self._headers(message.get("headers", ()), request_id)
            await send(message)

        self._lifecycle.in_flight += 1
        try:
            if fixed is None:
                await self._app(scope, receive, send_with_headers)
            else:
                answer = fixed()
                status = answer.status
                headers = self._headers(answer.headers, request_id)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": answer.body, "more_body": False})
        finally:
            self._lifecycle.in_flight -= 1
            seconds = time.perf_counter() - started
            route = path if fixed is not None else scope.get("path_template", _UNMATCHED_ROUTE)
            if self._metrics is not None:
                self._metrics.observe(route, method, status, seconds)
            if self._log is not None:
                self._log.write(
                    {
                        "ts": timestamp(),
                        "level": "info",
                        "msg": "request",
                        "method": method,
                        "path": path,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                        "request_id": request_id.decode(),
                    }
                )
