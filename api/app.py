"""The app factory: the one place the service is wired together. No work happens at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import PurePosixPath

from litestar import Litestar
from litestar.datastructures import ResponseHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components

from api._logs import JsonLineWriter
from api._metrics import Metrics
from api._observability import ObservabilityMiddleware
from api._options import options_handlers
from api._responses import FIXED_ANSWER
from api.api_keys import ApiKeys
from api.bearer_auth import security_components
from api.errors import exception_handlers
from api.lifecycle import Lifecycle
from api.model import load_model
from api.routes import metrics_handler, predict_handlers, probe_handlers
from api.service_card import ServiceCard, load_service_card
from api.settings import Settings, setting_variable

__all__ = ["create_app"]

_log = logging.getLogger("api.app")


def _openapi_config(card: ServiceCard, model_version: str, *, secured: bool) -> OpenAPIConfig:
    document = PurePosixPath(card.paths.openapi)
    if document.name != "openapi.json":
        msg = f"service card paths.openapi must end in /openapi.json, got {card.paths.openapi}"
        raise ValueError(msg)
    return OpenAPIConfig(
        title=f"{card.name} API",
        version=model_version,
        description="Scores requests with a bundled, versioned logistic-regression model.",
        path=str(document.parent),
        # The JSON document only: the UI plugins load scripts from public CDNs.
        render_plugins=[JsonRenderPlugin()],
        components=security_components() if secured else Components(),
    )


def _log_access(card: ServiceCard, api_keys: ApiKeys | None) -> Callable[[], None]:
    # At start-up, once the server has configured logging: whether anyone may score, in one line.
    def log_access() -> None:
        if api_keys is None:
            variable = setting_variable("api_keys_file")
            _log.warning("POST %s is open to every client: %s is not set", card.paths.predict, variable)
        else:
            _log.info(
                "POST %s needs a bearer API key: %d keys from %s, re-read when the file changes",
                card.paths.predict,
                api_keys.count,
                api_keys.path,
            )

    return log_access


def create_app(
    settings: Settings, *, lifecycle: Lifecycle | None = None, card: ServiceCard | None = None
) -> Litestar:
    """Build the service. Loads the model (raising ModelError) and the API keys (raising ApiKeyFileError)."""
    card = card or load_service_card()
    lifecycle = lifecycle or Lifecycle()
    model = load_model(settings.model_path)
    metrics = Metrics(model, lifecycle) if settings.metrics_enabled else None
    api_keys = None if settings.api_keys_file is None else ApiKeys(settings.api_keys_file)

    handlers = [
        *probe_handlers(
            liveness_path=card.paths.liveness,
            readiness_path=card.paths.readiness,
            model=model,
            lifecycle=lifecycle,
        ),
        *predict_handlers(
            path=card.paths.predict,
            model=model,
            max_batch_size=settings.max_batch_size,
            body_timeout_seconds=settings.body_timeout_seconds,
            api_keys=api_keys,
        ),
    ]
    if metrics is not None:
        handlers.append(metrics_handler(path=card.paths.metrics, metrics=metrics))

    app = Litestar(
        # The explicit OPTIONS handlers must come first (see api/_options.py).
        route_handlers=[*options_handlers(handlers), *handlers],
        exception_handlers=exception_handlers(max_body_bytes=settings.max_body_bytes),
        openapi_config=_openapi_config(card, model.version, secured=api_keys is not None),
        on_startup=[_log_access(card, api_keys)],
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
    app.asgi_handler = ObservabilityMiddleware(
        app.asgi_handler,
        model_version=model.version,
        lifecycle=lifecycle,
        metrics=metrics,
        log=JsonLineWriter() if settings.log_requests else None,
        fixed={
            (method, path): handler.opt[FIXED_ANSWER]
            for handler in handlers
            if FIXED_ANSWER in handler.opt
            for method in handler.http_methods
            for path in handler.paths
        },
    )
    return app
