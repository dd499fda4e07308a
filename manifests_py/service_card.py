"""The service card (``api/service.json``) as the manifests see it: the service's own typed reader.

The card is the one place the port, UID, names, health paths and load-balancer and server timings are
written, and ``api.service_card`` is the one reader of it (the service validates the same file at
start-up). This module only re-exports the repository root and adds an error type that synthesis
reports as a configuration problem; nothing here restates a value from the card.
"""

from __future__ import annotations

from pathlib import Path

from api.service_card import SERVICE_CARD_PATH, ServiceCard
from api.service_card import load_service_card as _read_card
from tools.common import REPO_ROOT

__all__ = ["REPO_ROOT", "SERVICE_CARD_PATH", "ServiceCard", "ServiceCardError", "load_service_card"]


class ServiceCardError(ValueError):
    """The card is missing, not JSON, or has a missing or invalid field; the message names it."""


def load_service_card(path: Path = SERVICE_CARD_PATH) -> ServiceCard:
    try:
        return _read_card(path)
    except ValueError as error:
        raise ServiceCardError(str(error)) from error
