"""Runs the app under uvicorn with a graceful drain on SIGTERM.

On the first SIGTERM (or Ctrl-C) readiness turns 503 at once while the server keeps answering, so a
load balancer that has not yet noticed loses nothing. When no request is in flight, or the drain budget
is spent, the server stops accepting, lets what remains finish within the rest of the budget, and exits 0.
A second signal skips the wait.
"""

from __future__ import annotations

import logging
import time
from types import FrameType

import uvicorn

from api._http_protocol import BoundedHttpToolsProtocol
from api._logs import LOG_CONFIG
from api.app import create_app
from api.lifecycle import Lifecycle
from api.service_card import ServiceCard
from api.settings import Settings

__all__ = ["DrainingServer", "serve"]

_log = logging.getLogger("api.server")
# Whatever phase one leaves of the budget, connections still get this long to finish their response.
_MIN_FINAL_WAIT_SECONDS = 1.0


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, lifecycle: Lifecycle, drain_seconds: float) -> None:
        super().__init__(config)
        self._lifecycle = lifecycle
        self._drain_seconds = drain_seconds
        self._drain_deadline = 0.0

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._lifecycle.draining:
            super().handle_exit(sig, frame)
            return
        self._lifecycle.begin_drain()
        self._drain_deadline = time.monotonic() + self._drain_seconds
        _log.info("signal %d: draining for up to %g s", sig, self._drain_seconds)

    async def on_tick(self, counter: int) -> bool:
        if self._lifecycle.draining and not self.should_exit:
            remaining = self._drain_deadline - time.monotonic()
            if self._lifecycle.in_flight == 0 or remaining <= 0:
                self.config.timeout_graceful_shutdown = max(remaining, _MIN_FINAL_WAIT_SECONDS)  # type: ignore[assignment]
                self.should_exit = True
        return await super().on_tick(counter)


def serve(settings: Settings, *, card: ServiceCard | None = None) -> None:
    lifecycle = Lifecycle()
    app = create_app(settings, lifecycle=lifecycle, card=card)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        # httptools with a bound on the request head (see api/_http_protocol.py).
        http=BoundedHttpToolsProtocol,
        lifespan="on",
        log_config=LOG_CONFIG,
        access_log=False,
        server_header=False,
        # X-Forwarded-* are trusted only from loopback, where no proxy of ours runs, and nothing here reads
        # the client address: the middleware that applies them cost about as much as answering GET /predict.
        proxy_headers=False,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=int(settings.drain_seconds) or None,
    )
    DrainingServer(config, lifecycle=lifecycle, drain_seconds=settings.drain_seconds).run()
