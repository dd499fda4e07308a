"""The ASGI app uvicorn serves: the service's own routes answered directly (api/answers.py), anything else
handed to Litestar; around every request, its id, the model-version header, metrics, the access log and
the in-flight count (404s and 405s included).

Litestar is needed only for the OpenAPI document and for what the service does not serve (404, 405,
OPTIONS), and importing it is most of a start-up; so it is built in a background thread once the server
has started, and a request that needs it before then waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from api._logs import JsonLineWriter, timestamp
from api._metrics import Metrics
from api._responses import Answer
from api.lifecycle import Lifecycle

__all__ = ["ServiceApp"]

if TYPE_CHECKING:
    from litestar.types import ASGIApp, LifeSpanReceive, LifeSpanSend, Message, Receive, Scope, Send

# Echo only ids that are safe to put back in a header and in a log line.
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:@/+=-]{1,128}$")
_UNMATCHED_ROUTE = "unmatched"
_log = logging.getLogger("api.front")


def _report_failed_build(build: asyncio.Future[ASGIApp]) -> None:
    if not build.cancelled() and (error := build.exception()) is not None:
        _log.error("building the Litestar app failed; requests for other routes will fail", exc_info=error)


def _request_id(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    for name, value in headers:
        if name == b"x-request-id" and _VALID_REQUEST_ID.match(value):
            return value
    return os.urandom(16).hex().encode()


class ServiceApp:
    __slots__ = (
        "_answers",
        "_build_fallback",
        "_building",
        "_fallback",
        "_lifecycle",
        "_log",
        "_metrics",
        "_model_version",
        "_on_startup",
    )

    def __init__(  # noqa: PLR0913 - keyword-only parts of one app
        self,
        *,
        answers: Mapping[tuple[str, str], Answer],
        build_fallback: Callable[[], ASGIApp],
        on_startup: Callable[[], None],
        model_version: str,
        lifecycle: Lifecycle,
        metrics: Metrics | None,
        log: JsonLineWriter | None,
    ) -> None:
        self._answers = answers
        self._build_fallback = build_fallback
        self._building: asyncio.Future[ASGIApp] | None = None
        self._fallback: ASGIApp | None = None
        self._on_startup = on_startup
        self._model_version = model_version.encode()
        self._lifecycle = lifecycle
        self._metrics = metrics
        self._log = log

    async def fallback(self) -> ASGIApp:
        """The Litestar app, once built (the first call from a running loop starts the build)."""
        if self._fallback is None:
            if self._building is None:
                self._building = self._build_in_background()
            self._fallback = await asyncio.shield(self._building)
        return self._fallback

    def _build_in_background(self) -> asyncio.Future[ASGIApp]:
        # A daemon thread, not the loop's executor: a SIGTERM during the build must not wait for it.
        loop = asyncio.get_running_loop()
        built: asyncio.Future[ASGIApp] = loop.create_future()

        def settle(deliver: Callable[[], None]) -> None:
            if not built.done():  # not cancelled meanwhile
                deliver()

        def build() -> None:
            try:
                app = self._build_fallback()
            except Exception as error:  # noqa: BLE001 - handed to the requests that wait for it
                deliver = functools.partial(built.set_exception, error)
            else:
                deliver = functools.partial(built.set_result, app)
            with contextlib.suppress(RuntimeError):  # the loop closed: the server stopped meanwhile
                loop.call_soon_threadsafe(settle, deliver)

        threading.Thread(target=build, name="litestar-build", daemon=True).start()
        return built

    async def _lifespan(self, receive: LifeSpanReceive, send: LifeSpanSend) -> None:
        while True:
            kind = (await receive())["type"]
            if kind == "lifespan.startup":
                self._on_startup()
                asyncio.ensure_future(self.fallback()).add_done_callback(_report_failed_build)
                await send({"type": "lifespan.startup.complete"})
            elif kind == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _headers(self, base: Iterable[tuple[bytes, bytes]], request_id: bytes) -> list[tuple[bytes, bytes]]:
        extended = [*base, (b"x-request-id", request_id), (b"x-model-version", self._model_version)]
        if self._lifecycle.draining:
            # Ask keep-alive clients (and the load balancer) to reconnect elsewhere.
            extended.append((b"connection", b"close"))
        return extended

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # type: ignore[comparison-overlap]  # ScopeType is a str enum
            await self._lifespan(receive, send)  # type: ignore[arg-type]  # a lifespan scope: its channels
            return
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await (await self.fallback())(scope, receive, send)
            return
        method: str = scope["method"]  # type: ignore[typeddict-item]  # an http scope, checked above
        path = scope["path"]
        started = time.perf_counter()
        request_id = _request_id(scope["headers"])
        answer = self._answers.get((method, path))
        status = 500  # what the client sees if the app fails before it starts a response

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = self._headers(message.get("headers", ()), request_id)
            await send(message)

        self._lifecycle.in_flight += 1
        try:
            if answer is None:
                await (await self.fallback())(scope, receive, send_with_headers)
            else:
                response = await answer(scope, receive)
                status = response.status
                headers = self._headers(response.headers, request_id)
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": response.body, "more_body": False})
        finally:
            self._lifecycle.in_flight -= 1
            seconds = time.perf_counter() - started
            route = path if answer is not None else scope.get("path_template", _UNMATCHED_ROUTE)
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
