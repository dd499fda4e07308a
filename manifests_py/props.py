"""Typed, keyword-only props of the Knative-like service construct, with production-safe defaults.

The props describe the service the way Knative does (image, port, scale bounds and target, resources,
environment, health paths, exposure); ``target`` picks what it becomes. Nothing here knows about a
particular environment: ``manifests_py.renderings`` fills the props from the service card and config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from manifests_py.capacity_record import derived_cpu_target_percent
from manifests_py.image import ImageReference
from manifests_py.shutdown import ShutdownTimings

__all__ = [
    "Autoscaling",
    "Exposure",
    "HealthPaths",
    "IngressExposure",
    "LoadBalancerHealthCheck",
    "Probe",
    "Probes",
    "Resources",
    "ScalingPolicy",
    "ScalingRules",
    "SecretEnv",
    "ServiceProps",
    "Target",
    "TargetGroupBindingExposure",
]


class Target(StrEnum):
    EKS = "eks"
    KNATIVE = "knative"


@dataclass(frozen=True, kw_only=True)
class Resources:
    cpu_request_millicores: int = 250
    cpu_limit_millicores: int = 1000
    # Memory request == limit: the pod is never scheduled on memory it may not get.
    memory_request_mebibytes: int = 256
    memory_limit_mebibytes: int = 256

    def __post_init__(self) -> None:
        if not 0 < self.cpu_request_millicores <= self.cpu_limit_millicores:
            msg = (
                f"resources: need 0 < cpu request ({self.cpu_request_millicores}m) "
                f"<= limit ({self.cpu_limit_millicores}m)"
            )
            raise ValueError(msg)
        if not 0 < self.memory_request_mebibytes <= self.memory_limit_mebibytes:
            msg = (
                f"resources: need 0 < memory request ({self.memory_request_mebibytes}Mi) "
                f"<= limit ({self.memory_limit_mebibytes}Mi)"
            )
            raise ValueError(msg)


@dataclass(frozen=True, kw_only=True)
class ScalingPolicy:
    kind: str  # "Pods" or "Percent", as in autoscaling/v2
    value: int
    period_seconds: int


@dataclass(frozen=True, kw_only=True)
class ScalingRules:
    stabilization_window_seconds: int
    policies: tuple[ScalingPolicy, ...]


@dataclass(frozen=True, kw_only=True)
class Autoscaling:
    min_scale: int = 2
    max_scale: int = 10
    # Utilization of the CPU *request*: what the HPA (eks) and Knative's HPA class scale on. None (the
    # default) derives it from the committed capacity measurement at the pod's CPU request
    # (ServiceProps.cpu_target_percent), so no one retypes a measured figure.
    cpu_target_percent: int | None = None
    # In-flight requests per pod; when set, Knative's own autoscaler (KPA) scales on it instead of CPU.
    concurrency_target: int | None = None
    # Hard cap of concurrent requests per pod (Knative's queue-proxy enforces it); 0 = no cap.
    container_concurrency: int = 0
    # A stateless pod that starts in about a second can be added at once: react to the first reading
    # (no stabilization) and allow doubling, or four more pods when there are few, every 15 s (the HPA's
    # sync period), whichever adds more.
    scale_up: ScalingRules = ScalingRules(
        stabilization_window_seconds=0,
        policies=(
            ScalingPolicy(kind="Percent", value=100, period_seconds=15),
            ScalingPolicy(kind="Pods", value=4, period_seconds=15),
        ),
    )
    # Removing pods is what risks the latency objective, so it waits for five minutes of lower readings
    # and then sheds at most 10 % a minute. The HPA rounds a percentage down to whole pods kept, so at
    # least one pod can always go and the HPA still reaches min_scale.
    scale_down: ScalingRules = ScalingRules(
        stabilization_window_seconds=300,
        policies=(ScalingPolicy(kind="Percent", value=10, period_seconds=60),),
    )

    def __post_init__(self) -> None:
        if not 0 <= self.min_scale <= self.max_scale or self.max_scale < 1:
            msg = f"autoscaling: need 0 <= min_scale ({self.min_scale}) <= max_scale ({self.max_scale}) >= 1"
            raise ValueError(msg)


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
class SecretEnv:
    secret: str
    key: str


@dataclass(frozen=True, kw_only=True)
class TargetGroupBindingExposure:
    """Bind the pods to a target group that Terraform owns (with the ALB, listeners and certificate)."""

    target_group_arn: str


@dataclass(frozen=True, kw_only=True)
class LoadBalancerHealthCheck:
    path: str
    interval_seconds: int
    timeout_seconds: int
    healthy_threshold: int
    unhealthy_threshold: int


@dataclass(frozen=True, kw_only=True)
class IngressExposure:
    """Let the AWS Load Balancer Controller own an HTTPS-only ALB described by Ingress annotations."""

    certificate_arn: str
    idle_timeout_seconds: int
    deregistration_delay_seconds: int
    health_check: LoadBalancerHealthCheck
    # The service card's load_balancer.tls_policy: the same policy as the Terraform-owned HTTPS listener.
    ssl_policy: str
    scheme: str = "internet-facing"


Exposure = TargetGroupBindingExposure | IngressExposure | None


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
    target: Target = Target.EKS
    autoscaling: Autoscaling = Autoscaling()
    resources: Resources = Resources()
    probes: Probes = Probes()
    environment: Mapping[str, str] = field(default_factory=dict)
    secret_environment: Mapping[str, SecretEnv] = field(default_factory=dict)
    exposure: Exposure = None
    # IAM role for the pods (IRSA), written on the ServiceAccount.
    role_arn: str | None = None
    # Prometheus scrape path; None when the service exposes no metrics.
    metrics_path: str | None = None
    # Knative's per-request timeout; on EKS the ALB idle timeout bounds idle requests instead.
    request_timeout_seconds: int | None = None
    spread_across_zones: bool = True
    # Pods a voluntary disruption (node drain, upgrade) may take down at once, whatever the scale.
    max_unavailable: int = 1
    # Extra pods a rollout may start above the desired count (it never goes below: maxUnavailable is 0).
    max_surge_percent: int = 25
    tmp_size_limit_mebibytes: int = 64

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:  # noqa: PLR2004 - the TCP port range
            msg = f"port: {self.port} is not a TCP port"
            raise ValueError(msg)
        if self.run_as_user < 10000:  # noqa: PLR2004 - restricted pods run above host UID ranges
            msg = f"run_as_user: {self.run_as_user} must be >= 10000 so it maps to no host user"
            raise ValueError(msg)
        clash = set(self.environment) & set(self.secret_environment)
        if clash:
            msg = f"environment and secret_environment both set {', '.join(sorted(clash))}"
            raise ValueError(msg)
        self.cpu_target_percent  # noqa: B018 - resolved now, so a missing measurement fails at construction

    @property
    def cpu_target_percent(self) -> int:
        """The HPA's CPU target: as set in ``autoscaling``, else derived from the capacity measurement."""
        explicit = self.autoscaling.cpu_target_percent
        if explicit is not None:
            return explicit
        return derived_cpu_target_percent(self.resources.cpu_request_millicores)
