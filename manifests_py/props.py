"""Typed, keyword-only props of the Knative-like service construct, with production-safe defaults.

The props describe the service the way Knative does (image, port, scale bounds and target, resources,
environment, health paths, exposure); ``target`` picks what it becomes. ``Autoscaling`` and ``Resources``
are pydantic models: an environment's ``[scale]`` and ``[resources]`` tables are validated straight into
them. ``manifests_py.renderings`` adds what the service card says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from api.service_card import LoadBalancer
from manifests_py._model import Cpu, Memory, Props, mebibytes, millicores, refuse
from manifests_py.image import ImageReference
from manifests_py.shutdown import ShutdownTimings

__all__ = [
    "ApiKeysSecret",
    "Autoscaling",
    "Exposure",
    "HealthPaths",
    "IngressExposure",
    "Probe",
    "Probes",
    "Resources",
    "ServiceProps",
    "Target",
    "TargetGroupBindingExposure",
    "Traffic",
]


class Target(StrEnum):
    EKS = "eks"
    KNATIVE = "knative"


class Resources(Props):
    """``[resources]``: the container's CPU and memory, as Kubernetes quantities."""

    cpu_request: Cpu
    cpu_limit: Cpu
    # Memory request == limit in the committed environments: the pod is never scheduled on memory it
    # may not get.
    memory_request: Memory
    memory_limit: Memory

    @property
    def cpu_request_millicores(self) -> int:
        return millicores(self.cpu_request)

    @property
    def cpu_limit_millicores(self) -> int:
        return millicores(self.cpu_limit)

    @property
    def memory_request_mebibytes(self) -> int:
        return mebibytes(self.memory_request)

    @property
    def memory_limit_mebibytes(self) -> int:
        return mebibytes(self.memory_limit)

    @model_validator(mode="after")
    def _request_within_limit(self) -> Self:
        if self.cpu_request_millicores == 0:
            raise refuse(reason="must be above zero", field="cpu_request")
        if self.cpu_request_millicores > self.cpu_limit_millicores:
            raise refuse(
                reason=f"{self.cpu_request} exceeds cpu_limit ({self.cpu_limit})", field="cpu_request"
            )
        if self.memory_request_mebibytes > self.memory_limit_mebibytes:
            raise refuse(
                reason=f"{self.memory_request} exceeds memory_limit ({self.memory_limit})",
                field="memory_request",
            )
        return self


class Autoscaling(Props):
    """``[scale]``: the replica bounds and what the autoscalers aim at."""

    min: int = Field(ge=0, le=1000)
    max: int = Field(ge=1, le=1000)
    # Utilization of the CPU *request*: what the HPA (eks) and Knative's HPA class scale on. Chosen by a
    # person; `make capacity` prints the value a measurement suggests next to it.
    cpu_target_percent: int = Field(ge=1, le=100)
    # In-flight requests per pod; when set, Knative's own autoscaler (KPA) scales on it instead of CPU.
    concurrency_target: int | None = Field(default=None, ge=1, le=10_000)
    # Hard cap of concurrent requests per pod (Knative's queue-proxy enforces it); 0 = no cap.
    container_concurrency: int = Field(default=0, ge=0, le=10_000)

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.min > self.max:
            raise refuse(reason=f"{self.min} is greater than max ({self.max})", field="min")
        target, cap = self.concurrency_target, self.container_concurrency
        if target and cap and target > cap:
            raise refuse(
                reason=f"{target} exceeds container_concurrency ({cap}): the target could never be reached",
                field="concurrency_target",
            )
        return self


# The two workloads of a release, told apart by the pods' ``track`` label: the version serving, and the new
# one the deploy scales up and moves the listener's weights to, step by step. Here, beside the steps, so the
# deploy and the load tools read them without loading the constructs (and the jsii runtime).
TRACK_LABEL = "track"
STABLE, CANARY = "stable", "canary"


class Traffic(Props):
    """``[traffic]``: a release's canary steps and the limits the new version must hold at each one.

    ``steps`` are the percent of requests the new version gets, held ``step_seconds`` each; a step whose
    canary saw fewer than ``min_requests`` requests fails, so a quiet hour never promotes blind.
    """

    steps: tuple[Annotated[int, Field(ge=1, le=99)], ...] = Field(min_length=1)
    step_seconds: int = Field(gt=0)
    max_error_rate: float = Field(ge=0, le=1)
    max_p99_ms: int = Field(gt=0)
    min_requests: int = Field(ge=0)

    @model_validator(mode="after")
    def _increasing_shares(self) -> Self:
        for i in range(1, len(self.steps)):
            if self.steps[i] <= self.steps[i - 1]:
                reason = f"{self.steps[i]} is not above the step before ({self.steps[i - 1]})"
                raise refuse(reason=reason, field=f"steps[{i}]")
        return self


@dataclass(frozen=True, kw_only=True)
class HealthPaths:
    startup: str
    readiness: str
    liveness: str


@dataclass(frozen=True, kw_only=True)
class Probe:
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int


@dataclass(frozen=True, kw_only=True)
class Probes:
    # The model loads in well under a second; 30 x 1 s still tolerates a slow node without restarts.
    startup: Probe = Probe(period_seconds=1, timeout_seconds=1, failure_threshold=30)
    readiness: Probe = Probe(period_seconds=5, timeout_seconds=2, failure_threshold=2)
    liveness: Probe = Probe(period_seconds=10, timeout_seconds=2, failure_threshold=3)


@dataclass(frozen=True, kw_only=True)
class TargetGroupBindingExposure:
    """Bind the pods to target groups that Terraform owns (with the ALB, listeners and certificate): the
    stable pods to one, the canary's to the other; a release moves the listener's weights between them."""

    target_group_arn: str
    canary_target_group_arn: str


@dataclass(frozen=True, kw_only=True)
class IngressExposure:
    """Let the AWS Load Balancer Controller own an HTTPS-only ALB described by Ingress annotations."""

    certificate_arn: str
    # The service card's: the same TLS policy as the Terraform-owned HTTPS listener, and the same idle
    # timeout, deregistration delay and health check as its target group.
    load_balancer: LoadBalancer
    health_check_path: str


Exposure = TargetGroupBindingExposure | IngressExposure | None


@dataclass(frozen=True, kw_only=True)
class ApiKeysSecret:
    """The Secrets Manager secret of the client API keys, mounted read-only at ``path`` by the CSI driver."""

    secret_name: str
    region: str
    directory: str = "/run/secrets/api-keys"
    file_name: str = "api-keys"

    @property
    def path(self) -> str:
        return f"{self.directory}/{self.file_name}"


@dataclass(frozen=True, kw_only=True)
class ServiceProps:
    name: str
    namespace: str
    service_account: str
    image: ImageReference
    port: int
    run_as_user: int
    shutdown: ShutdownTimings
    health: HealthPaths
    autoscaling: Autoscaling
    resources: Resources
    # Who may open connections to the app port besides the kubelet: the load balancer's subnets and the
    # pods of the metrics scraper's namespace.
    load_balancer_cidrs: tuple[str, ...]
    metrics_scraper_namespace: str
    api_keys: ApiKeysSecret
    traffic: Traffic
    target: Target = Target.EKS
    probes: Probes = Probes()
    environment: Mapping[str, str] = field(default_factory=dict)
    exposure: Exposure = None
    # Prometheus scrape path; None when the service exposes no metrics.
    metrics_path: str | None = None
    # Knative's per-request timeout; on EKS the ALB idle timeout bounds idle requests instead.
    request_timeout_seconds: int | None = None
    # Pods a voluntary disruption (node drain, upgrade) may take down at once, whatever the scale.
    max_unavailable: int = 1
    # Extra pods a rollout may start above the desired count (it never goes below: maxUnavailable is 0).
    max_surge_percent: int = 25
    tmp_size_limit_mebibytes: int = 64
