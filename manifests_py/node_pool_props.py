"""Typed, validated props of the cluster's node capacity (Karpenter), with restricted defaults.

Kept free of cdk8s so the configuration loader and ``make capacity`` can use the same rules without
starting the jsii runtime; ``manifests_py.karpenter`` turns these props into the objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "AL2023_ROOT_DEVICE",
    "ALLOWED_INSTANCE_CATEGORIES",
    "AMI_ALIAS",
    "BUDGET_DURATION",
    "BUDGET_NODES",
    "CRON",
    "DISCOVERY_TAG",
    "DURATION",
    "Architecture",
    "Budget",
    "CapacityType",
    "ConsolidationPolicy",
    "DisruptionReason",
    "NodePoolProps",
    "duration_seconds",
]

# Subnets and security groups Karpenter may use carry this tag with the cluster's name (set by infra/).
DISCOVERY_TAG = "karpenter.sh/discovery"
# The root device of the EKS-optimized Amazon Linux 2023 AMIs.
AL2023_ROOT_DEVICE = "/dev/xvda"
# Compute-optimized, general-purpose and memory-optimized: no burstable (t: CPU credits run out under
# sustained load, and latency with them), accelerated, storage-dense or HPC families for this service.
ALLOWED_INSTANCE_CATEGORIES = ("c", "m", "r")
# Karpenter's own duration grammar (NodePool CRD), without "Never": nodes must expire and consolidate.
DURATION = re.compile(r"^(?:[0-9]+[smh])+$")
BUDGET_DURATION = re.compile(r"^(?:[0-9]+[hm]|[0-9]+h[0-9]+m)$")
BUDGET_NODES = re.compile(r"^(?:(?:100|[0-9]{1,2})%|[0-9]+)$")
CRON = re.compile(r"^(?:@(?:annually|yearly|monthly|weekly|daily|midnight|hourly)|\S+ \S+ \S+ \S+ \S+)$")
# Only Amazon Linux 2023 (the root device above is its own), at the newest release or a pinned one.
AMI_ALIAS = re.compile(r"^al2023@(?:latest|v[0-9]{8})$")
_FAMILY = re.compile(r"^([a-z]+)[0-9][a-z0-9-]*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def duration_seconds(text: str) -> int:
    """Seconds in a Karpenter duration such as ``1h30m``; ValueError if it is not one."""
    if not DURATION.fullmatch(text):
        msg = f"{text!r} is not a duration such as 30s, 5m, 1h or 1h30m"
        raise ValueError(msg)
    return sum(int(amount) * _SECONDS[unit] for amount, unit in re.findall(r"([0-9]+)([smh])", text))


class CapacityType(StrEnum):
    ON_DEMAND = "on-demand"
    SPOT = "spot"


class Architecture(StrEnum):
    AMD64 = "amd64"
    ARM64 = "arm64"


class ConsolidationPolicy(StrEnum):
    WHEN_EMPTY = "WhenEmpty"
    WHEN_EMPTY_OR_UNDERUTILIZED = "WhenEmptyOrUnderutilized"


class DisruptionReason(StrEnum):
    UNDERUTILIZED = "Underutilized"
    EMPTY = "Empty"
    DRIFTED = "Drifted"


@dataclass(frozen=True, kw_only=True)
class Budget:
    """How many of the pool's nodes Karpenter may be disrupting at once (for ``reasons``, during a window)."""

    nodes: str = "10%"
    reasons: tuple[DisruptionReason, ...] = ()
    schedule: str | None = None
    duration: str | None = None

    def __post_init__(self) -> None:
        if not BUDGET_NODES.fullmatch(self.nodes):
            msg = f"budget nodes {self.nodes!r} is not a count or a percentage such as 1 or 10%"
            raise ValueError(msg)
        if (self.schedule is None) != (self.duration is None):
            msg = "a budget's schedule and duration go together: set both or neither"
            raise ValueError(msg)
        if self.schedule is not None and not CRON.fullmatch(self.schedule):
            msg = f"budget schedule {self.schedule!r} is not a cron expression such as '0 8 * * mon-fri'"
            raise ValueError(msg)
        if self.duration is not None and not BUDGET_DURATION.fullmatch(self.duration):
            msg = f"budget duration {self.duration!r} is not in hours and minutes such as 8h or 1h30m"
            raise ValueError(msg)


def _problems_with_instances(categories: tuple[str, ...], families: tuple[str, ...]) -> list[str]:
    problems = []
    if not categories:
        problems.append("instance_categories: empty")
    refused = [c for c in categories if c not in ALLOWED_INSTANCE_CATEGORIES]
    if refused:
        problems.append(
            f"instance_categories: {', '.join(refused)} not allowed "
            f"(only {', '.join(ALLOWED_INSTANCE_CATEGORIES)}: no burstable, accelerated or storage families)"
        )
    for family in families:
        match = _FAMILY.fullmatch(family)
        if match is None or match.group(1) not in categories:
            problems.append(f"instance_families: {family!r} is not a family of {', '.join(categories)}")
    return problems


@dataclass(frozen=True, kw_only=True)
class NodePoolProps:
    name: str
    cluster_name: str
    # The IAM role nodes run as (Karpenter makes the instance profile); Terraform output
    # karpenter_node_role_name.
    node_role_name: str
    zones: tuple[str, ...]
    # Caps on everything the pool may launch at once: what a runaway HPA or a bad rollout can cost.
    cpu_limit_millicores: int
    memory_limit_mebibytes: int
    # The longest terminationGracePeriodSeconds of the pods the pool runs: a node's own grace period
    # must exceed it, or Karpenter deletes those pods early and cuts their drain short.
    longest_pod_grace_period_seconds: int
    instance_categories: tuple[str, ...] = ("c", "m")
    # Empty: every family of those categories from the minimum generation on (more choice for Spot and
    # for the cheapest fit); a list narrows it to these families.
    instance_families: tuple[str, ...] = ()
    instance_generation_min: int = 6
    # Small nodes keep the blast radius of one node small and consolidation fine-grained.
    instance_cpu_max: int = 16
    capacity_types: tuple[CapacityType, ...] = (CapacityType.ON_DEMAND,)
    # The image is built for one architecture (amd64 in CI); arm64 needs a multi-architecture image.
    architectures: tuple[Architecture, ...] = (Architecture.AMD64,)
    consolidation_policy: ConsolidationPolicy = ConsolidationPolicy.WHEN_EMPTY_OR_UNDERUTILIZED
    # How long a node must stay empty or under-used before Karpenter replaces or removes it: minutes, so
    # short dips in traffic (and the HPA's own 5-minute scale-down) do not churn nodes.
    consolidate_after: str = "5m"
    budgets: tuple[Budget, ...] = (Budget(nodes="10%"),)
    # Nodes are replaced after 30 days, so they pick up patched AMIs and never run for ever.
    expire_after: str = "720h"
    # The most a drain may take, even if a PodDisruptionBudget blocks it (a stuck drain must end).
    termination_grace_period: str = "1h"
    ami_alias: str = "al2023@latest"
    root_volume_gibibytes: int = 20
    labels: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = [
            *_problems_with_instances(self.instance_categories, self.instance_families),
            *_problems_with_shape(self),
            *_problems_with_timing(self),
        ]
        if problems:
            raise ValueError("; ".join(problems))


def _problems_with_shape(props: NodePoolProps) -> list[str]:
    problems = []
    if not props.zones or len(set(props.zones)) != len(props.zones):
        problems.append("zones: need one or more distinct zones")
    if props.cpu_limit_millicores <= 0 or props.memory_limit_mebibytes <= 0:
        problems.append("limits: cpu and memory must be above zero")
    if not props.capacity_types or not props.architectures:
        problems.append("capacity_types and architectures: need at least one each")
    if not 1 <= props.instance_generation_min <= 99 or props.instance_cpu_max < 1:  # noqa: PLR2004 - label range
        problems.append("instance_generation_min / instance_cpu_max: out of range")
    if not AMI_ALIAS.fullmatch(props.ami_alias):
        problems.append(f"ami_alias: {props.ami_alias!r} is not al2023@latest or al2023@vYYYYMMDD")
    if not 20 <= props.root_volume_gibibytes <= 1000:  # noqa: PLR2004 - the AMI's snapshot is 20 GiB
        problems.append(f"root_volume_gibibytes: {props.root_volume_gibibytes} is not within 20..1000")
    if not props.budgets:
        problems.append("budgets: need at least one (an empty list lets Karpenter disrupt every node)")
    return problems


def _problems_with_timing(props: NodePoolProps) -> list[str]:
    problems = []
    for name in ("consolidate_after", "expire_after", "termination_grace_period"):
        value = getattr(props, name)
        if not DURATION.fullmatch(value):
            problems.append(f"{name}: {value!r} is not a duration such as 30s, 5m or 720h")
    grace = props.termination_grace_period
    if DURATION.fullmatch(grace) and duration_seconds(grace) <= props.longest_pod_grace_period_seconds:
        problems.append(
            f"termination_grace_period: {grace} must exceed the pods' terminationGracePeriodSeconds "
            f"({props.longest_pod_grace_period_seconds} s)"
        )
    return problems
