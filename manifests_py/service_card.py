"""The service card (``api/service.json``), read once and typed: the facts the manifests derive from.

The card is the one place the port, UID, names, health paths and load-balancer and server timings are
written. The API and Terraform read the same file; nothing here restates a value from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["REPO_ROOT", "SERVICE_CARD_PATH", "ServiceCard", "ServiceCardError", "load_service_card"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICE_CARD_PATH = REPO_ROOT / "api" / "service.json"


class ServiceCardError(ValueError):
    """The card is missing, not JSON, or lacks a field the manifests need; the message names it."""


@dataclass(frozen=True, kw_only=True)
class ServiceCard:
    name: str
    port: int
    uid: int
    namespace: str
    service_account: str
    liveness_path: str
    readiness_path: str
    metrics_path: str
    idle_timeout_seconds: int
    deregistration_delay_seconds: int
    health_check_interval_seconds: int
    health_check_timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int
    keep_alive_timeout_seconds: int
    drain_seconds: int


def _lookup(document: dict[str, Any], dotted: str, source: Path) -> object:
    node: object = document
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            msg = f"{source}: {dotted}: missing"
            raise ServiceCardError(msg)
        node = node[part]
    return node


def _wrong_type(source: Path, dotted: str, expected: str, value: object) -> ServiceCardError:
    return ServiceCardError(f"{source}: {dotted}: expected {expected}, got {type(value).__name__} {value!r}")


def _integer(document: dict[str, Any], dotted: str, source: Path) -> int:
    value = _lookup(document, dotted, source)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _wrong_type(source, dotted, "an integer", value)
    return value


def _text(document: dict[str, Any], dotted: str, source: Path) -> str:
    value = _lookup(document, dotted, source)
    if not isinstance(value, str):
        raise _wrong_type(source, dotted, "a string", value)
    return value


def load_service_card(path: Path = SERVICE_CARD_PATH) -> ServiceCard:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        msg = f"{path}: {error}"
        raise ServiceCardError(msg) from error
    if not isinstance(document, dict):
        msg = f"{path}: expected a JSON object"
        raise ServiceCardError(msg)

    def integer(dotted: str) -> int:
        return _integer(document, dotted, path)

    def text(dotted: str) -> str:
        return _text(document, dotted, path)

    return ServiceCard(
        name=text("name"),
        port=integer("port"),
        uid=integer("uid"),
        namespace=text("namespace"),
        service_account=text("service_account"),
        liveness_path=text("paths.liveness"),
        readiness_path=text("paths.readiness"),
        metrics_path=text("paths.metrics"),
        idle_timeout_seconds=integer("load_balancer.idle_timeout_seconds"),
        deregistration_delay_seconds=integer("load_balancer.deregistration_delay_seconds"),
        health_check_interval_seconds=integer("load_balancer.health_check.interval_seconds"),
        health_check_timeout_seconds=integer("load_balancer.health_check.timeout_seconds"),
        healthy_threshold=integer("load_balancer.health_check.healthy_threshold"),
        unhealthy_threshold=integer("load_balancer.health_check.unhealthy_threshold"),
        keep_alive_timeout_seconds=integer("server.keep_alive_timeout_seconds"),
        drain_seconds=integer("server.drain_seconds"),
    )
