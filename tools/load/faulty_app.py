"""``python -m tools.load.faulty_app --error-every N | --delay-ms MS``: the service, started exactly as
``python -m api`` starts it, but its app wrapped so scoring requests go wrong; probes stay healthy.

A bad new version for the canary rehearsal: up, ready and passing its health checks, yet answering every
Nth scoring request with a 500, or every scoring request MS milliseconds late. Never part of the image.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import api.app
import api.server
from api.__main__ import main as serve_main
from api.service_card import load_service_card

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[..., Awaitable[None]]


class FaultyApp:
    def __init__(self, app: App, *, error_every: int, delay_seconds: float) -> None:
        self.app, self.error_every, self.delay_seconds = app, error_every, delay_seconds
        self.path = load_service_card().paths.predict
        self.seen = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path:
            self.seen += 1
            if self.error_every and self.seen % self.error_every == 0:
                await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            await asyncio.sleep(self.delay_seconds)
        await self.app(scope, receive, send)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--error-every", type=int, default=0, help="answer every Nth scoring request 500")
    parser.add_argument("--delay-ms", type=float, default=0, help="hold every scoring request this long")
    args = parser.parse_args(argv)
    create_app = api.app.create_app

    def faulty(*arguments: Any, **options: Any) -> Any:  # noqa: ANN401 -- create_app's own signature
        return FaultyApp(
            create_app(*arguments, **options),
            error_every=args.error_every,
            delay_seconds=args.delay_ms / 1000,
        )

    # serve() builds the app through the name it imported: wrapping it there leaves every setting as is.
    setattr(api.server, "create_app", faulty)  # noqa: B010 -- an attribute mypy sees as private
    return serve_main()


if __name__ == "__main__":
    sys.exit(main())
