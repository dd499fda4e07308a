"""The service card: facts about this service that the app, its manifests and its infrastructure share.

``api/service.json`` is the one place these are written; the cdk8s app and the Terraform root read the
same file, so a port or a health path can't drift between the code and what routes traffic to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

__all__ = ["SERVICE_CARD_PATH", "Paths", "ServiceCard", "load_service_card"]

SERVICE_CARD_PATH = Path(__file__).with_name("service.json")

_Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
_Seconds = Annotated[int, msgspec.Meta(ge=0, le=3600)]
_Path = Annotated[str, msgspec.Meta(pattern=r"^/[a-z0-9/._-]*$")]


class Paths(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    liveness: _Path
    readiness: _Path
    predict: _Path
    metrics: _Path
    openapi: _Path


class HealthCheck(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    interval_seconds: _Seconds
    timeout_seconds: _Seconds
    healthy_threshold: Annotated[int, msgspec.Meta(ge=2, le=10)]
    unhealthy_threshold: Annotated[int, msgspec.Meta(ge=2, le=10)]


class LoadBalancer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    # The HTTPS listener's policy (Terraform) and the alternative Ingress's annotation: TLS 1.3 only.
    tls_policy: Annotated[str, msgspec.Meta(pattern=r"^ELBSecurityPolicy-TLS13-[0-9A-Za-z-]+$")]
    idle_timeout_seconds: _Seconds
    deregistration_delay_seconds: _Seconds
    health_check: HealthCheck


class Server(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    keep_alive_timeout_seconds: _Seconds
    drain_seconds: _Seconds


class ServiceCard(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
    port: _Port
    uid: Annotated[int, msgspec.Meta(ge=10000, le=65535)]
    namespace: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{0,62}$")]
    service_account: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{0,62}$")]
    # Kubernetes group of the CI deploy role: its EKS access entry (Terraform) and the RoleBinding that
    # grants what the edit policy lacks (the TargetGroupBinding) name the same group.
    deployer_group: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{0,62}$")]
    paths: Paths
    load_balancer: LoadBalancer
    server: Server


def load_service_card(path: Path = SERVICE_CARD_PATH) -> ServiceCard:
    """Read and validate the card; a malformed card is a packaging error, so it raises ValueError."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=ServiceCard)
    except (OSError, msgspec.DecodeError) as error:
        msg = f"service card {path}: {error}"
        raise ValueError(msg) from error
