"""Hand-typed L1 classes for the custom resources cdk8s-plus has no construct for.

Only the fields this app sets are typed; tests validate the synthesized objects strictly against the
upstream CRD schemas vendored in ``manifests_py/crd_schemas``, so a misspelt or misplaced field fails there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cdk8s import ApiObject, ApiObjectMetadata, JsonPatch
from constructs import Construct

from manifests_py._json import JSON_NAME, to_json

__all__ = [
    "AmiSelectorTerm",
    "BlockDeviceMapping",
    "DisruptionBudget",
    "EC2NodeClass",
    "EC2NodeClassSpec",
    "EbsVolume",
    "InstanceMetadataOptions",
    "KnativeContainer",
    "KnativeRevisionSpec",
    "KnativeRevisionTemplate",
    "KnativeService",
    "KnativeServiceSpec",
    "NodeClaimTemplate",
    "NodeClaimTemplateSpec",
    "NodeClassReference",
    "NodePool",
    "NodePoolDisruption",
    "NodePoolSpec",
    "NodeSelectorRequirement",
    "RequirementOperator",
    "ServiceReference",
    "TagSelectorTerm",
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


# ---- karpenter.k8s.aws/v1 EC2NodeClass (how Karpenter launches an instance)


@dataclass(frozen=True, kw_only=True)
class AmiSelectorTerm:
    # An alias such as "al2023@latest" or "al2023@v20250116": the EKS-optimized AMI of that release.
    alias: str


@dataclass(frozen=True, kw_only=True)
class TagSelectorTerm:
    tags: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class InstanceMetadataOptions:
    http_endpoint: Literal["enabled", "disabled"]
    http_protocol_ipv6: Literal["enabled", "disabled"] = field(metadata={JSON_NAME: "httpProtocolIPv6"})
    http_put_response_hop_limit: int
    http_tokens: Literal["required", "optional"]


@dataclass(frozen=True, kw_only=True)
class EbsVolume:
    volume_size: str
    volume_type: Literal["gp3", "gp2", "io1", "io2"]
    encrypted: bool
    delete_on_termination: bool
    # None: the account's default EBS key (aws/ebs), which needs no key-policy grant for the node role.
    kms_key_id: str | None = field(default=None, metadata={JSON_NAME: "kmsKeyID"})


@dataclass(frozen=True, kw_only=True)
class BlockDeviceMapping:
    device_name: str
    root_volume: bool
    ebs: EbsVolume


@dataclass(frozen=True, kw_only=True)
class EC2NodeClassSpec:
    role: str
    ami_selector_terms: Sequence[AmiSelectorTerm]
    subnet_selector_terms: Sequence[TagSelectorTerm]
    security_group_selector_terms: Sequence[TagSelectorTerm]
    metadata_options: InstanceMetadataOptions
    block_device_mappings: Sequence[BlockDeviceMapping]
    tags: Mapping[str, str] | None = None


class EC2NodeClass(_TypedApiObject):
    API_VERSION = "karpenter.k8s.aws/v1"
    KIND = "EC2NodeClass"

    def __init__(
        self, scope: Construct, id_: str, *, metadata: ApiObjectMetadata, spec: EC2NodeClassSpec
    ) -> None:
        super().__init__(scope, id_, metadata=metadata, spec=spec)


# ---- karpenter.sh/v1 NodePool (which nodes Karpenter may launch, how many, and when it may remove them)


RequirementOperator = Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]


@dataclass(frozen=True, kw_only=True)
class NodeSelectorRequirement:
    key: str
    operator: RequirementOperator
    values: Sequence[str]


@dataclass(frozen=True, kw_only=True)
class NodeClassReference:
    group: str
    kind: str
    name: str


@dataclass(frozen=True, kw_only=True)
class NodeClaimTemplateSpec:
    node_class_ref: NodeClassReference
    requirements: Sequence[NodeSelectorRequirement]
    expire_after: str
    termination_grace_period: str


@dataclass(frozen=True, kw_only=True)
class NodeClaimTemplate:
    spec: NodeClaimTemplateSpec


@dataclass(frozen=True, kw_only=True)
class DisruptionBudget:
    nodes: str
    reasons: Sequence[Literal["Underutilized", "Empty", "Drifted"]] | None = None
    schedule: str | None = None
    duration: str | None = None


@dataclass(frozen=True, kw_only=True)
class NodePoolDisruption:
    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized"]
    consolidate_after: str
    budgets: Sequence[DisruptionBudget]


@dataclass(frozen=True, kw_only=True)
class NodePoolSpec:
    template: NodeClaimTemplate
    disruption: NodePoolDisruption
    limits: Mapping[str, str]


class NodePool(_TypedApiObject):
    API_VERSION = "karpenter.sh/v1"
    KIND = "NodePool"

    def __init__(
        self, scope: Construct, id_: str, *, metadata: ApiObjectMetadata, spec: NodePoolSpec
    ) -> None:
        super().__init__(scope, id_, metadata=metadata, spec=spec)
