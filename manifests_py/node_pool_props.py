"""Typed, validated props of the cluster's node capacity (Karpenter), with restricted defaults.

``NodePool`` is the environment's ``[node_pool]`` table as it is read from TOML, plus the cluster and
node role names its environment's Terraform outputs give. Kept free of cdk8s, so the configuration loader
does not start the jsii runtime; ``manifests_py.karpenter`` writes it into the objects.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from manifests_py._model import Cpu, Memory, Props, millicores, refuse, shaped

__all__ = [
    "AL2023_ROOT_DEVICE",
    "DISCOVERY_TAG",
    "Budget",
    "InstanceCategory",
    "NodePool",
    "duration_seconds",
]

# Subnets and security groups Karpenter may use carry this tag with the cluster's name (set by infra/).
DISCOVERY_TAG = "karpenter.sh/discovery"
# The root device of the EKS-optimized Amazon Linux 2023 AMIs.
AL2023_ROOT_DEVICE = "/dev/xvda"
# Compute-optimized, general-purpose and memory-optimized: no burstable (t: CPU credits run out under
# sustained load, and latency with them), accelerated, storage-dense or HPC families for this service.
InstanceCategory = Literal["c", "m", "r"]
# Karpenter's own duration grammar (NodePool CRD), without "Never": nodes must expire and consolidate.
_DURATION = r"(?:[0-9]+[smh])+"
Duration = Annotated[str, shaped(_DURATION, "a duration such as 30s, 5m, 720h or 1h30m (never 'Never')")]
_FAMILY = re.compile(r"([a-z]+)[0-9][a-z0-9-]*")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def duration_seconds(text: str) -> int:
    """Seconds in a Karpenter duration such as ``1h30m``; ValueError if it is not one."""
    if not re.fullmatch(_DURATION, text):
        msg = f"{text!r} is not a duration such as 30s, 5m, 1h or 1h30m"
        raise ValueError(msg)
    return sum(int(amount) * _SECONDS[unit] for amount, unit in re.findall(r"([0-9]+)([smh])", text))


class Budget(Props):
    """How many of the pool's nodes Karpenter may be disrupting at once (for ``reasons``, during a window)."""

    nodes: Annotated[
        str, shaped(r"(?:100|[0-9]{1,2})%|[0-9]+", "a node count or percentage such as 1 or 10%")
    ]
    reasons: tuple[Literal["Underutilized", "Empty", "Drifted"], ...] = ()
    schedule: (
        Annotated[
            str,
            shaped(
                r"@(?:annually|yearly|monthly|weekly|daily|midnight|hourly)|\S+ \S+ \S+ \S+ \S+",
                "a cron expression such as '0 8 * * mon-fri'",
            ),
        ]
        | None
    ) = None
    duration: (
        Annotated[str, shaped(r"[0-9]+[hm]|[0-9]+h[0-9]+m", "in hours and minutes such as 8h or 1h30m")]
        | None
    ) = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        if (self.schedule is None) != (self.duration is None):
            raise refuse(reason="schedule and duration go together: set both or neither", field="schedule")
        return self


class NodePool(Props):
    """``[node_pool]``: the cluster's Karpenter capacity; unset fields keep these restricted defaults."""

    zones: tuple[str, ...]
    # Caps on everything the pool may launch at once: what a runaway HPA or a bad rollout can cost.
    cpu_limit: Cpu
    memory_limit: Memory
    instance_categories: tuple[InstanceCategory, ...] = ("c", "m")
    # Empty: every family of those categories from the minimum generation on (more choice for Spot and
    # for the cheapest fit); a list narrows it to these families.
    instance_families: tuple[str, ...] = ()
    instance_generation_min: int = Field(default=6, ge=1, le=99)
    # Small nodes keep the blast radius of one node small and consolidation fine-grained.
    instance_cpu_max: int = Field(default=16, ge=1, le=1024)
    capacity_types: tuple[Literal["on-demand", "spot"], ...] = ("on-demand",)
    # The image is built for one architecture (amd64 in CI); arm64 needs a multi-architecture image.
    architectures: tuple[Literal["amd64", "arm64"], ...] = ("amd64",)
    consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized"] = "WhenEmptyOrUnderutilized"
    # How long a node must stay empty or under-used before Karpenter replaces or removes it: minutes, so
    # short dips in traffic (and the HPA's own 5-minute scale-down) do not churn nodes.
    consolidate_after: Duration = "5m"
    disruption_budgets: tuple[Budget, ...] = (Budget(nodes="10%"),)
    # Nodes are replaced after 30 days, so they pick up patched AMIs and never run for ever.
    expire_after: Duration = "720h"
    # The most a drain may take, even if a PodDisruptionBudget blocks it (a stuck drain must end).
    termination_grace_period: Duration = "1h"
    # Only Amazon Linux 2023 (the root device above is its own), at the newest release or a pinned one.
    ami_alias: Annotated[str, shaped(r"al2023@(?:latest|v[0-9]{8})", "al2023@latest or al2023@vYYYYMMDD")] = (
        "al2023@latest"
    )
    # The AMI's snapshot is 20 GiB.
    root_volume_gibibytes: int = Field(default=20, ge=20, le=1000)

    # Checked once the items are valid (a min_length would also count the invalid ones as missing).
    @field_validator("zones", "instance_categories", "capacity_types", "architectures")
    @classmethod
    def _distinct(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if not values or len(set(values)) != len(values):
            msg = "empty" if not values else "lists a value twice"
            raise ValueError(msg)
        return values

    @field_validator("disruption_budgets")
    @classmethod
    def _some_budget(cls, budgets: tuple[Budget, ...]) -> tuple[Budget, ...]:
        if not budgets:
            msg = "empty: with no budget Karpenter may disrupt every node at once"
            raise ValueError(msg)
        return budgets

    @field_validator("zones")
    @classmethod
    def _in_region(cls, zones: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        region = (info.context or {}).get("region")
        outside = [zone for zone in zones if region and not re.fullmatch(rf"{re.escape(region)}[a-z]", zone)]
        if outside:
            msg = f"{', '.join(map(repr, outside))}: not a zone of {region} such as {region}a"
            raise ValueError(msg)
        return zones

    @field_validator("instance_families")
    @classmethod
    def _of_the_categories(cls, families: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        categories = info.data.get("instance_categories", ())
        for family in families:
            match = _FAMILY.fullmatch(family)
            if match is None or match.group(1) not in categories:
                msg = f"{family!r} is not a family of {', '.join(categories)}"
                raise ValueError(msg)
        return families

    @field_validator("cpu_limit")
    @classmethod
    def _above_zero(cls, quantity: str) -> str:
        if millicores(quantity) == 0:
            msg = "must be above zero"
            raise ValueError(msg)
        return quantity

    # From [terraform_outputs], set when the environment is loaded.
    _cluster_name: str = PrivateAttr("")
    _node_role_name: str = PrivateAttr("")

    @property
    def cluster_name(self) -> str:
        return self._cluster_name

    @property
    def node_role_name(self) -> str:
        return self._node_role_name

    @property
    def cpu_limit_millicores(self) -> int:
        return millicores(self.cpu_limit)
