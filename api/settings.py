"""Typed runtime settings, read once from ``PREDICTOR_*`` environment variables and validated.

Defaults are the production values; anything unsafe (a keep-alive that the load balancer would outlive,
an unknown ``PREDICTOR_`` variable that is probably a typo, an API key file that is missing, empty or
holds a short key) stops start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from api.api_keys import ApiKeyFileError, read_api_keys
from api.service_card import ServiceCard, load_service_card

__all__ = ["ENV_PREFIX", "Settings", "SettingsError", "load_settings", "setting_variable"]

ENV_PREFIX = "PREDICTOR_"
BUNDLED_MODEL_PATH = Path(__file__).with_name("models") / "churn-logreg.json"

_MiB = 1024 * 1024


class SettingsError(ValueError):
    """A setting is missing, malformed or unsafe; the message names the environment variable."""


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    host: Annotated[str, msgspec.Meta(min_length=1, description="Interface to listen on.")] = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535, description="TCP port to listen on.")]
    model_path: Annotated[
        str, msgspec.Meta(min_length=1, description="Model artifact (JSON) loaded at start-up.")
    ] = str(BUNDLED_MODEL_PATH)
    max_batch_size: Annotated[
        int, msgspec.Meta(ge=1, le=10_000, description="Most instances one POST /predict may carry.")
    ] = 256
    max_body_bytes: Annotated[
        int, msgspec.Meta(ge=1024, le=64 * _MiB, description="Largest request body; larger gets 413.")
    ] = 1 * _MiB
    body_timeout_seconds: Annotated[
        float, msgspec.Meta(gt=0, le=300, description="Time allowed to receive a request body; then 408.")
    ] = 10.0
    drain_seconds: Annotated[
        float,
        msgspec.Meta(
            ge=0, le=600, description="Longest time from SIGTERM to exit while in-flight work ends."
        ),
    ]
    keep_alive_seconds: Annotated[
        int,
        msgspec.Meta(
            gt=0, le=3600, description="Idle keep-alive; must outlive the load balancer's idle timeout."
        ),
    ]
    log_requests: Annotated[bool, msgspec.Meta(description="One JSON log line per request on stdout.")] = True
    metrics_enabled: Annotated[bool, msgspec.Meta(description="Serve Prometheus metrics.")] = True
    api_keys_file: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                description="File of client API keys (see api/api_keys.py); POST /predict then needs "
                "one as a bearer token. Unset: POST /predict is open.",
            ),
        ]
        | None
    ) = None


_FIELD_BY_VARIABLE = {f"{ENV_PREFIX}{name.upper()}": name for name in Settings.__struct_fields__}
_ERROR_PATH = re.compile(r" - at `\$\.(?P<field>\w+)`$")


def setting_variable(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(environ: Mapping[str, str] | None = None, card: ServiceCard | None = None) -> Settings:
    """Build the settings from ``environ`` (default: the process environment) over the card's defaults."""
    environ = os.environ if environ is None else environ
    card = card or load_service_card()
    unknown = sorted(key for key in environ if key.startswith(ENV_PREFIX) and key not in _FIELD_BY_VARIABLE)
    if unknown:
        known = ", ".join(sorted(_FIELD_BY_VARIABLE))
        msg = f"{', '.join(unknown)}: not a known setting (known: {known})"
        raise SettingsError(msg)

    values: dict[str, Any] = {
        "port": card.port,
        "drain_seconds": card.server.drain_seconds,
        "keep_alive_seconds": card.server.keep_alive_timeout_seconds,
    }
    values.update({field: environ[var] for var, field in _FIELD_BY_VARIABLE.items() if var in environ})
    try:
        settings = msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as error:
        message = str(error)
        match = _ERROR_PATH.search(message)
        if match is None:
            raise SettingsError(message) from error
        field = match["field"]
        raw = values[field]
        msg = f"{setting_variable(field)}={raw!r}: {message[: match.start()]}"
        raise SettingsError(msg) from error

    idle = card.load_balancer.idle_timeout_seconds
    if settings.keep_alive_seconds <= idle:
        msg = (
            f"{setting_variable('keep_alive_seconds')}={settings.keep_alive_seconds}: must exceed the load "
            f"balancer's idle timeout ({idle} s), or the server closes connections the load balancer reuses"
        )
        raise SettingsError(msg)
    if not Path(settings.model_path).is_file():
        msg = f"{setting_variable('model_path')}={settings.model_path!r}: no such file"
        raise SettingsError(msg)
    if settings.api_keys_file is not None:
        try:
            read_api_keys(settings.api_keys_file)
        except ApiKeyFileError as error:
            msg = f"{setting_variable('api_keys_file')}={settings.api_keys_file!r}: {error}"
            raise SettingsError(msg) from error
    return settings
