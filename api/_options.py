"""Explicit OPTIONS answers for paths served by more than one handler.

Litestar 2 builds a path's automatic OPTIONS handler when the path's first handler is registered and
never updates it, so ``OPTIONS /predict`` said ``Allow: GET, OPTIONS`` although POST is served too,
while the 405 for the same path listed all three (litestar-org/litestar#4169, fixed only in v3).
Registered before the others, an explicit handler with the union of the methods replaces it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from litestar import MediaType, Response, route
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler

__all__ = ["options_handlers"]


def _options_handler(path: str, allow: str) -> HTTPRouteHandler:
    @route(
        path,
        http_method=HttpMethod.OPTIONS,
        status_code=204,
        media_type=MediaType.TEXT,
        include_in_schema=False,
    )
    async def options() -> Response[None]:
        return Response(content=None, status_code=204, headers={"allow": allow})

    return options


def options_handlers(handlers: Sequence[HTTPRouteHandler]) -> list[HTTPRouteHandler]:
    """One OPTIONS handler per path that several handlers serve; they must be registered first."""
    methods: defaultdict[str, set[str]] = defaultdict(set)
    handler_count: defaultdict[str, int] = defaultdict(int)
    for handler in handlers:
        for path in handler.paths:
            methods[path] |= set(handler.http_methods)
            handler_count[path] += 1
    return [
        _options_handler(path, ", ".join(sorted(served | {HttpMethod.OPTIONS.value})))
        for path, served in methods.items()
        if handler_count[path] > 1 and HttpMethod.OPTIONS.value not in served
    ]
