"""Prometheus exposition of the app's own registry."""

from __future__ import annotations

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from api._metrics import CONTENT_TYPE, Metrics

__all__ = ["metrics_handler"]


def metrics_handler(*, path: str, metrics: Metrics) -> HTTPRouteHandler:
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
    async def prometheus_metrics() -> Response[bytes]:
        return Response(metrics.render(), headers={"content-type": CONTENT_TYPE})

    return prometheus_metrics
