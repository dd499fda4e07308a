"""What ``dist/`` holds: one folder per environment on EKS, the Knative rendering, and each environment's
cluster-scoped node capacity (Karpenter) in a folder of its own.

This module is where the service card and an environment's config become the constructs' props; the
constructs themselves know neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from manifests_py.config import ConfigError, EnvironmentConfig, ExposureKind, app_settings
from manifests_py.image import ImageReference
from manifests_py.node_pool_props import NodePool, duration_seconds
from manifests_py.props import (
    ApiKeysSecret,
    Exposure,
    HealthPaths,
    IngressExposure,
    ServiceProps,
    Target,
    TargetGroupBindingExposure,
)
from manifests_py.service_card import ServiceCard
from manifests_py.shutdown import ShutdownTimings

__all__ = [
    "RENDERINGS",
    "Layer",
    "Rendering",
    "app_environment",
    "node_pool",
    "service_props",
]


class Layer(StrEnum):
    # The service's own objects, in its namespace: what the deploy applies.
    SERVICE = "service"
    # Cluster-scoped node capacity, applied by whoever administers the cluster.
    CLUSTER = "cluster"


@dataclass(frozen=True, kw_only=True)
class Rendering:
    folder: str
    environment: str
    target: Target
    layer: Layer = Layer.SERVICE

    @property
    def description(self) -> str:
        return self.target.value if self.layer is Layer.SERVICE else f"{self.target.value} cluster"


RENDERINGS: tuple[Rendering, ...] = (
    Rendering(folder="dev", environment="dev", target=Target.EKS),
    Rendering(folder="prod", environment="prod", target=Target.EKS),
    # dev is where scale to zero makes sense, so it is the environment shown on Knative.
    Rendering(folder="knative", environment="dev", target=Target.KNATIVE),
    Rendering(folder="dev-cluster", environment="dev", target=Target.EKS, layer=Layer.CLUSTER),
    Rendering(folder="prod-cluster", environment="prod", target=Target.EKS, layer=Layer.CLUSTER),
)


def app_environment(card: ServiceCard, config: EnvironmentConfig) -> dict[str, str]:
    """The PREDICTOR_* variables: card facts the pod timings depend on, plus the environment's [server].

    PREDICTOR_HOST is left to the image, which listens on all interfaces.
    """
    return {
        "PREDICTOR_PORT": str(card.port),
        "PREDICTOR_DRAIN_SECONDS": str(card.server.drain_seconds),
        "PREDICTOR_KEEP_ALIVE_SECONDS": str(card.server.keep_alive_timeout_seconds),
        **app_settings(config.server),
    }


def _exposure(card: ServiceCard, config: EnvironmentConfig) -> Exposure:
    outputs = config.terraform_outputs
    stable, canary = outputs.target_group_arn, outputs.canary_target_group_arn
    if config.exposure.kind is ExposureKind.TARGET_GROUP_BINDING and stable and canary:
        return TargetGroupBindingExposure(target_group_arn=stable, canary_target_group_arn=canary)
    if config.exposure.kind is ExposureKind.INGRESS and outputs.certificate_arn:
        return IngressExposure(
            certificate_arn=outputs.certificate_arn,
            load_balancer=card.load_balancer,
            health_check_path=card.paths.readiness,
        )
    return None


def service_props(
    card: ServiceCard, config: EnvironmentConfig, *, target: Target, image: ImageReference | None = None
) -> ServiceProps:
    metrics_enabled = config.server.get("metrics_enabled") is not False
    outputs = config.terraform_outputs
    return ServiceProps(
        name=card.name,
        namespace=card.namespace,
        service_account=card.service_account,
        image=image or config.image,
        port=card.port,
        run_as_user=card.uid,
        shutdown=ShutdownTimings.for_card(card),
        # Startup waits for the model (readiness); liveness asks only whether the process answers.
        health=HealthPaths(
            startup=card.paths.readiness, readiness=card.paths.readiness, liveness=card.paths.liveness
        ),
        target=target,
        autoscaling=config.scale,
        resources=config.resources,
        load_balancer_cidrs=tuple(str(cidr) for cidr in outputs.alb_subnet_cidrs),
        metrics_scraper_namespace=outputs.metrics_scraper_namespace,
        api_keys=ApiKeysSecret(secret_name=outputs.api_keys_secret_name, region=outputs.region),
        traffic=config.traffic,
        environment=app_environment(card, config),
        exposure=_exposure(card, config),
        metrics_path=card.paths.metrics if metrics_enabled else None,
        # Knative's request timeout: the same bound the ALB's idle timeout puts on EKS.
        request_timeout_seconds=card.load_balancer.idle_timeout_seconds if target is Target.KNATIVE else None,
    )


def node_pool(card: ServiceCard, config: EnvironmentConfig) -> NodePool:
    """The environment's Karpenter capacity; ConfigError naming the file if it has none or it is unsafe."""
    pool = config.node_pool
    if pool is None:
        msg = f"{config.source}: node_pool: missing (the {config.name}-cluster rendering needs it)"
        raise ConfigError([msg])
    # A node's grace period must exceed its pods' terminationGracePeriodSeconds, or Karpenter deletes
    # those pods early and cuts their drain short.
    pods = ShutdownTimings.for_card(card).termination_grace_period_seconds
    if duration_seconds(pool.termination_grace_period) <= pods:
        msg = (
            f"{config.source}: node_pool.termination_grace_period: {pool.termination_grace_period} must "
            f"exceed the pods' terminationGracePeriodSeconds ({pods} s)"
        )
        raise ConfigError([msg])
    return pool
