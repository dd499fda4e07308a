"""Liveness says the process answers; readiness says it should get traffic (model loaded, not draining)."""

from __future__ import annotations

import msgspec
from litestar import MediaType, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ASGIApp

from api._responses import FIXED_ANSWER, JsonBytes
from api.lifecycle import Lifecycle
from api.model import LogisticModel

__all__ = ["Health", "ModelInfo", "Readiness", "probe_handlers"]


class Health(msgspec.Struct):
    status: str


class ModelInfo(msgspec.Struct):
    name: str
    version: str


class Readiness(msgspec.Struct, omit_defaults=True):
    status: str
    model: ModelInfo
    reason: str | None = None


def probe_handlers(
    *, liveness_path: str, readiness_path: str, model: LogisticModel, lifecycle: Lifecycle
) -> list[HTTPRouteHandler]:
    healthy = JsonBytes(msgspec.json.encode(Health(status="ok")))
    info = ModelInfo(name=model.name, version=model.version)
    ready = JsonBytes(msgspec.json.encode(Readiness(status="ready", model=info)))
    draining = JsonBytes(
        msgspec.json.encode(
            Readiness(status="draining", model=info, reason="shutting down: finishing in-flight requests")
        ),
        status=503,
    )

    def readiness_answer() -> JsonBytes:
        return draining if lifecycle.draining else ready

    @get(
        liveness_path,
        summary="Liveness",
        description="The process is up and its event loop answers. Checks nothing else, by design.",
        tags=["probes"],
        media_type=MediaType.JSON,
        responses={200: ResponseSpec(Health, description="Alive", generate_examples=False)},
        opt={FIXED_ANSWER: lambda: healthy},
    )
    async def health() -> ASGIApp:
        return healthy

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
        opt={FIXED_ANSWER: readiness_answer},
    )
    async def readiness() -> ASGIApp:
        return readiness_answer()

    return [health, readiness]
