"""The Litestar app: it documents the service's routes (the OpenAPI document) and answers whatever the
service does not serve itself (404, 405, OPTIONS). Its handlers answer with the same api/answers.py."""

from __future__ import annotations

from pathlib import PurePosixPath

from litestar import Litestar
from litestar.datastructures import ResponseHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components

from api._options import options_handlers
from api._responses import Answer
from api.errors import exception_handlers
from api.model import LogisticModel
from api.routes import metrics_handler, predict_handlers, probe_handlers
from api.routes.predict import security_components
from api.service_card import ServiceCard
from api.settings import Settings

__all__ = ["litestar_app"]


def _openapi_config(card: ServiceCard, model_version: str, *, secured: bool) -> OpenAPIConfig:
    document = PurePosixPath(card.paths.openapi)
    return OpenAPIConfig(
        title=f"{card.name} API",
        version=model_version,
        description="Scores requests with a bundled, versioned logistic-regression model.",
        path=str(document.parent),
        # The JSON document only: the UI plugins load scripts from public CDNs.
        render_plugins=[JsonRenderPlugin()],
        components=security_components() if secured else Components(),
    )


def litestar_app(
    settings: Settings,
    *,
    card: ServiceCard,
    model: LogisticModel,
    secured: bool,
    answers: dict[tuple[str, str], Answer],
) -> Litestar:
    paths = card.paths
    handlers = [
        *probe_handlers(
            liveness_path=paths.liveness,
            readiness_path=paths.readiness,
            liveness_answer=answers["GET", paths.liveness],
            readiness_answer=answers["GET", paths.readiness],
        ),
        *predict_handlers(
            path=paths.predict,
            model=model,
            max_batch_size=settings.max_batch_size,
            secured=secured,
            baseline_answer=answers["GET", paths.predict],
            predict_answer=answers["POST", paths.predict],
        ),
    ]
    if ("GET", paths.metrics) in answers:
        handlers.append(metrics_handler(path=paths.metrics, exposition=answers["GET", paths.metrics]))
    return Litestar(
        # The explicit OPTIONS handlers must come first (see api/_options.py).
        route_handlers=[*options_handlers(handlers), *handlers],
        exception_handlers=exception_handlers(max_body_bytes=settings.max_body_bytes),
        openapi_config=_openapi_config(card, model.version, secured=secured),
        request_max_body_size=settings.max_body_bytes,
        response_headers=[
            ResponseHeader(
                name="X-Request-ID",
                description="Echo of the client's id, or a new one.",
                documentation_only=True,
            ),
            ResponseHeader(
                name="X-Model-Version",
                description="Version of the model that answered.",
                documentation_only=True,
            ),
        ],
        # Logging is configured by the server (JSON lines); Litestar must not install its own handlers.
        logging_config=None,
        debug=False,
    )
