"""Capacity planning, derived in one place from what ``make capacity`` measured (tools/load/capacity.json).

For one pod held to its CPU request, the measurement gives each endpoint's highest throughput whose p99
met the objective and the CPU the pod used then. CPU per request is taken as constant, so throughput
scales linearly with the CPU allowed: the measured limit is the anchor, and every derived figure stays
below it. From it: the HPA CPU target it suggests (the utilization at which a pod still has ``HEADROOM``
of its limit left, less the HPA's tolerance), the replicas a request rate needs, the nodes they need
(spread evenly over zones) and what a million predictions cost, per environment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Share of the measured limit a pod may reach before the HPA adds pods: the rest absorbs traffic that
# grows while new pods start and join the target group (a scale-up takes tens of seconds).
HEADROOM = 0.8
# kube-controller-manager's --horizontal-pod-autoscaler-tolerance (default 0.1): no scaling while
# utilization is within 10 % of the target.
HPA_TOLERANCE = 0.1


class CapacityError(ValueError):
    """An input that cannot be planned with; the message names it."""


def _require(condition: bool, msg: str) -> None:  # noqa: FBT001 - the condition checked
    if not condition:
        raise CapacityError(msg)


def _positive(name: str, value: float) -> None:
    _require(math.isfinite(value) and value > 0, f"{name} must be a positive number, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class EndpointCapacity:
    """One endpoint at the highest load whose p99 met the objective, with the pod at its CPU request."""

    endpoint: str
    requests_per_second: float
    p99_milliseconds: float
    # CPU the pod used at that load, in millicores (at most the quota).
    cpu_millicores: float

    def __post_init__(self) -> None:
        _positive(f"{self.endpoint}: requests_per_second", self.requests_per_second)
        _positive(f"{self.endpoint}: cpu_millicores", self.cpu_millicores)


@dataclass(frozen=True, kw_only=True)
class Measurement:
    cpu_request_millicores: int
    endpoints: tuple[EndpointCapacity, ...]

    def __post_init__(self) -> None:
        _positive("cpu_request_millicores", self.cpu_request_millicores)
        _require(bool(self.endpoints), "a measurement needs at least one endpoint")

    def utilization(self, endpoint: EndpointCapacity) -> float:
        """CPU used at the endpoint's limit as a share of the request (the HPA's measure)."""
        return endpoint.cpu_millicores / self.cpu_request_millicores


def hpa_cpu_target_percent(
    measurement: Measurement, *, headroom: float = HEADROOM, tolerance: float = HPA_TOLERANCE
) -> int:
    """The HPA's averageUtilization: the most demanding endpoint's limit, with headroom, less tolerance;
    rounded down, since a lower target means more pods, never a pod past its limit."""
    _require(0 < headroom <= 1, f"headroom must be within (0, 1], got {headroom!r}")
    _require(0 <= tolerance < 1, f"tolerance must be within [0, 1), got {tolerance!r}")
    limit = min(measurement.utilization(e) for e in measurement.endpoints)
    target = math.floor(limit * headroom / (1 + tolerance) * 100)
    _require(target >= 1, f"the measured limit ({limit:.1%} of the CPU request) leaves no usable HPA target")
    return target


def pod_rate_at_target(measurement: Measurement, endpoint: EndpointCapacity, target_percent: int) -> float:
    """Requests per second one pod serves when its CPU sits at the HPA target."""
    _require(1 <= target_percent <= 100, f"target_percent must be within 1..100, got {target_percent!r}")  # noqa: PLR2004
    return endpoint.requests_per_second * (target_percent / 100) / measurement.utilization(endpoint)


@dataclass(frozen=True, kw_only=True)
class ReplicaPlan:
    # Pods the rate needs at the target, rounded up, before the HPA's bounds.
    needed: int
    # What the HPA runs: ``needed`` within [min, max].
    replicas: int

    @property
    def capped(self) -> bool:
        """True when max_replicas is too low for the rate: pods would run past the target."""
        return self.needed > self.replicas


def replicas_for(rate: float, *, pod_rate: float, min_replicas: int, max_replicas: int) -> ReplicaPlan:
    _require(math.isfinite(rate) and rate >= 0, f"request rate must be zero or more per second, got {rate!r}")
    _positive("pod_rate", pod_rate)
    _require(
        1 <= min_replicas <= max_replicas,
        f"need 1 <= min_replicas ({min_replicas}) <= max_replicas ({max_replicas})",
    )
    needed = math.ceil(rate / pod_rate)
    return ReplicaPlan(needed=needed, replicas=min(max(needed, min_replicas), max_replicas))


@dataclass(frozen=True, kw_only=True)
class NodeShape:
    """What one node offers pods: allocatable capacity (after kube/system reserved) less DaemonSets."""

    name: str
    allocatable_cpu_millicores: int
    allocatable_memory_mebibytes: int
    # The node's pod limit (on EKS, from its ENIs: 29 on a *.large).
    max_pods: int
    daemonset_cpu_millicores: int
    daemonset_memory_mebibytes: int
    daemonset_pods: int

    def __post_init__(self) -> None:
        for name in ("allocatable_cpu_millicores", "allocatable_memory_mebibytes", "max_pods"):
            _positive(f"{self.name}: {name}", getattr(self, name))
        for name in ("daemonset_cpu_millicores", "daemonset_memory_mebibytes", "daemonset_pods"):
            _require(
                getattr(self, name) >= 0,
                f"{self.name}: {name} must be zero or more, got {getattr(self, name)!r}",
            )


@dataclass(frozen=True, kw_only=True)
class PodShape:
    cpu_request_millicores: int
    memory_request_mebibytes: int

    def __post_init__(self) -> None:
        _positive("pod cpu request", self.cpu_request_millicores)
        _positive("pod memory request", self.memory_request_mebibytes)


def pods_per_node(node: NodeShape, pod: PodShape) -> int:
    """How many of the pods fit on one node next to its DaemonSets (the scheduler packs by requests)."""
    fits = min(
        (node.allocatable_cpu_millicores - node.daemonset_cpu_millicores) // pod.cpu_request_millicores,
        (node.allocatable_memory_mebibytes - node.daemonset_memory_mebibytes) // pod.memory_request_mebibytes,
        node.max_pods - node.daemonset_pods,
    )
    shape = f"{pod.cpu_request_millicores}m / {pod.memory_request_mebibytes}Mi"
    _require(
        fits >= 1, f"{node.name}: no pod of {shape} fits next to the DaemonSets; choose a larger instance"
    )
    return fits


def nodes_for(replicas: int, *, per_node: int, zones: int = 1) -> int:
    """Nodes for ``replicas`` pods spread evenly over ``zones`` (maxSkew 1): a node serves one zone only."""
    _require(replicas >= 0, f"replicas must be zero or more, got {replicas!r}")
    _positive("pods per node", per_node)
    _positive("zones", zones)
    base, extra = divmod(replicas, zones)  # the first ``extra`` zones get one pod more
    return sum(math.ceil((base + (zone < extra)) / per_node) for zone in range(zones))


def cost_per_million(*, nodes: int, hourly_price: float, rate: float) -> float:
    """What a million predictions cost on ``nodes`` instances at ``hourly_price`` serving ``rate`` req/s."""
    _positive("nodes", nodes)
    _positive("hourly price", hourly_price)
    _positive("request rate", rate)
    return nodes * hourly_price / (rate * 3600) * 1_000_000
