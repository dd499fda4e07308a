"""Hand-typed L1 classes for the custom resources cdk8s-plus has no construct for.

Only the fields this app sets are typed; tests validate the synthesized objects strictly against the
upstream CRD schemas (``../shared/schemas``), so a misspelt or misplaced field fails there.
The same pattern fits further CRDs (Karpenter's NodePool and EC2NodeClass).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cdk8s import ApiObject, ApiObjectMetadata, JsonPatch
from constructs import Construct

from manifests_py._json import JSON_NAME, to_json

__all__ = [
    "KnativeContainer",
    "KnativeRevisionSpec",
    "KnativeRevisionTemplate",
    "KnativeService",
    "KnativeServiceSpec",
    "ServiceReference",
    "TargetGroupBinding",
    "TargetGroupBindingSpec",
]


class _TypedApiObject(ApiObject):
    """An ApiObject whose ``spec`` comes from a typed dataclass."""

    API_VERSION: str
    KIND: str

    def __init__(self, scope: Construct, id_: str, *, metadata: ApiObjectMetadata, spec: object) -> None:
        super().__init__(scope, id_, api_version=self.API_VERSION, kind=self.KIND, metadata=metadata)
        self.add_json_patch(JsonPatch.add("/spec", to_json(spec)))


# ---- elbv2.k8s.aws/v1beta1 TargetGroupBinding (AWS Load Balancer Controller)


@dataclass(frozen=True, kw_only=True)
class ServiceReference:
    name: str
    port: int | str


@dataclass(frozen=True, kw_only=True)
class TargetGroupBindingSpec:
    service_ref: ServiceReference
    target_group_arn: str = field(metadata={JSON_NAME: "targetGroupARN"})
    target_type: Literal["ip", "instance"]


class TargetGroupBinding(_TypedApiObject):
    API_VERSION = "elbv2.k8s.aws/v1beta1"
    KIND = "TargetGroupBinding"

    def __init__(
        self, scope: Construct, id_: str, *, metadata: ApiObjectMetadata, spec: TargetGroupBindingSpec
    ) -> None:
        super().__init__(scope, id_, metadata=metadata, spec=spec)


# ---- serving.knative.dev/v1 Service


@dataclass(frozen=True, kw_only=True)
class KnativeContainer:
    """The subset of a core/v1 Container that Knative accepts, as plain Kubernetes JSON fragments."""

    name: str
    image: str
    ports: Sequence[Mapping[str, Any]]
    env: Sequence[Mapping[str, Any]]
    resources: Mapping[str, Any]
    startup_probe: Mapping[str, Any]
    readiness_probe: Mapping[str, Any]
    liveness_probe: Mapping[str, Any]
    security_context: Mapping[str, Any]
    volume_mounts: Sequence[Mapping[str, Any]]
    image_pull_policy: str = "Always"


@dataclass(frozen=True, kw_only=True)
class KnativeRevisionSpec:
    containers: Sequence[KnativeContainer]
    container_concurrency: int
    # None leaves Knative's cluster default (config-defaults revision-timeout-seconds).
    timeout_seconds: int | None
    service_account_name: str
    enable_service_links: bool
    volumes: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, kw_only=True)
class KnativeRevisionTemplate:
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    spec: KnativeRevisionSpec

    def to_json(self) -> dict[str, Any]:
        return {
            "metadata": {"labels": dict(self.labels), "annotations": dict(self.annotations)},
            "spec": to_json(self.spec),
        }


@dataclass(frozen=True, kw_only=True)
class KnativeServiceSpec:
    template: KnativeRevisionTemplate


class KnativeService(ApiObject):
    API_VERSION = "serving.knative.dev/v1"
    KIND = "Service"

    def __init__(
        self, scope: Construct, id_: str, *, metadata: ApiObjectMetadata, spec: KnativeServiceSpec
    ) -> None:
        super().__init__(scope, id_, api_version=self.API_VERSION, kind=self.KIND, metadata=metadata)
        self.add_json_patch(JsonPatch.add("/spec", {"template": spec.template.to_json()}))
