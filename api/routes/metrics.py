"""Prometheus exposition of the app's own registry."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ASGIApp

from api._metrics import CONTENT_TYPE
from api._responses import Answer

__all__ = ["metrics_handler"]


def metrics_handler(*, path: str, exposition: Answer) -> HTTPRouteHandler:
    @get(
        path,
        summary="Prometheus metrics",
        description="Request count by route and status, latency histogram, in-flight requests, model info.",
        tags=["observability"],
        media_type=CONTENT_TYPE,
        responses={
            200: ResponseSpec(
                str, description="Prometheus text format", media_type=CONTENT_TYPE, generate_examples=False
            )
        },
    )
    async def prometheus_metrics(request: Request[Any, Any, Any]) -> ASGIApp:
        return await exposition(request.scope, request.receive)

    return prometheus_metrics
