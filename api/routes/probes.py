"""Liveness says the process answers; readiness says it should get traffic (model loaded, not draining)."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ASGIApp

from api._responses import Answer
from api.answers import Health, Readiness

__all__ = ["probe_handlers"]


def probe_handlers(
    *, liveness_path: str, readiness_path: str, liveness_answer: Answer, readiness_answer: Answer
) -> list[HTTPRouteHandler]:
    @get(
        liveness_path,
        summary="Liveness",
        description="The process is up and its event loop answers. Checks nothing else, by design.",
        tags=["probes"],
        media_type=MediaType.JSON,
        responses={200: ResponseSpec(Health, description="Alive", generate_examples=False)},
    )
    async def health(request: Request[Any, Any, Any]) -> ASGIApp:
        return await liveness_answer(request.scope, request.receive)

    @get(
        readiness_path,
        summary="Readiness",
        description="200 while the model is loaded and the process is not draining, else 503 with a reason.",
        tags=["probes"],
        media_type=MediaType.JSON,
        responses={
            200: ResponseSpec(Readiness, description="Ready for traffic", generate_examples=False),
            503: ResponseSpec(Readiness, description="Draining: take this instance out of rotation"),
        },
    )
    async def readiness(request: Request[Any, Any, Any]) -> ASGIApp:
        return await readiness_answer(request.scope, request.receive)

    return [health, readiness]
