"""The app factory: the one place the service is wired together. No work happens at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from api._logs import JsonLineWriter
from api._metrics import Metrics
from api.answers import PredictEndpoint, answers
from api.api_keys import ApiKeys
from api.front import ServiceApp
from api.lifecycle import Lifecycle
from api.model import load_model
from api.service_card import ServiceCard, load_service_card
from api.settings import Settings, setting_variable

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["create_app"]

_log = logging.getLogger("api.app")


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
) -> ServiceApp:
    """Build the service. Loads the model (raising ModelError) and the API keys (raising ApiKeyFileError)."""
    card = card or load_service_card()
    if PurePosixPath(card.paths.openapi).name != "openapi.json":
        msg = f"service card paths.openapi must end in /openapi.json, got {card.paths.openapi}"
        raise ValueError(msg)
    lifecycle = lifecycle or Lifecycle()
    model = load_model(settings.model_path)
    metrics = Metrics(model, lifecycle) if settings.metrics_enabled else None
    api_keys = None if settings.api_keys_file is None else ApiKeys(settings.api_keys_file)
    endpoint = PredictEndpoint(
        model,
        max_batch_size=settings.max_batch_size,
        max_body_bytes=settings.max_body_bytes,
        body_timeout_seconds=settings.body_timeout_seconds,
        api_keys=api_keys,
    )
    served = answers(paths=card.paths, model=model, lifecycle=lifecycle, metrics=metrics, endpoint=endpoint)

    def build_litestar() -> Litestar:
        from api.litestar_app import litestar_app  # noqa: PLC0415 - off the start path (api/front.py)

        return litestar_app(settings, card=card, model=model, secured=api_keys is not None, answers=served)

    return ServiceApp(
        answers=served,
        build_fallback=build_litestar,
        on_startup=_log_access(card, api_keys),
        model_version=model.version,
        lifecycle=lifecycle,
        metrics=metrics,
        log=JsonLineWriter() if settings.log_requests else None,
    )
