"""Capacity planning, derived in one place from what ``make capacity`` measured (tools/load/capacity.json).

For one pod held to its CPU request, the measurement gives each endpoint's highest throughput whose p99
met the objective and the CPU the pod used then. CPU per request is taken as constant, so throughput
scales linearly with the CPU allowed: the measured limit is the anchor, and every derived figure stays
below it. From it: the HPA CPU target it suggests (the utilization at which a pod still has ``HEADROOM``
of its limit left, less the HPA's tolerance), the replicas a request rate needs, the nodes they need
(spread evenly over zones) and what a million predictions cost, per environment.

The record is read into the same pydantic models the derivation takes, so one set of bounds validates
both a committed file (with the field's location) and an argument (pydantic.ValidationError, naming it).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    model_validator,
    validate_call,
)

from manifests_py._model import describe_errors, refuse
from tools.common import write_atomic

CAPACITY_PATH = Path(__file__).resolve().with_name("capacity.json")
# Share of the measured limit a pod may reach before the HPA adds pods: the rest absorbs traffic that
# grows while new pods start and join the target group (a scale-up takes tens of seconds).
HEADROOM = 0.8
# kube-controller-manager's --horizontal-pod-autoscaler-tolerance (default 0.1): no scaling while
# utilization is within 10 % of the target.
HPA_TOLERANCE = 0.1

Positive = Annotated[FiniteFloat, Field(gt=0)]
NonNegative = Annotated[FiniteFloat, Field(ge=0)]


class CapacityError(ValueError):
    """An input that cannot be planned with; the message names it."""


class _Model(BaseModel):
    # The record keeps every step and more figures than the plan reads: those are left out, not refused.
    model_config = ConfigDict(frozen=True)


class Limit(_Model):
    """One endpoint at the highest load whose p99 met the objective, with the pod at its CPU request."""

    requests_per_second: Positive
    p99_milliseconds: float
    # CPU the pod used at that load, in millicores (at most the quota).
    cpu_millicores: Positive


class _Endpoint(_Model):
    limit: Limit


class Measurement(_Model):
    cpu_request_millicores: PositiveInt
    endpoints: Annotated[dict[str, _Endpoint], Field(min_length=1)]

    def limits(self) -> list[tuple[str, Limit]]:
        """(endpoint, its limit), in endpoint order."""
        return [(name, endpoint.limit) for name, endpoint in sorted(self.endpoints.items())]

    def utilization(self, limit: Limit) -> float:
        """CPU used at the endpoint's limit as a share of the request (the HPA's measure)."""
        return limit.cpu_millicores / self.cpu_request_millicores


class _Objective(_Model):
    p99_milliseconds: float


class CapacityRecord(_Model):
    """Per CPU request measured, each endpoint's limit and every step run (``method`` says how), so a
    reviewer can see the curve the limit was picked from."""

    format: Literal[1]
    date: str
    objective: _Objective
    machine: dict[str, Any]
    method: dict[str, Any]
    measurements: list[Measurement]

    @model_validator(mode="after")
    def _each_request_once(self) -> CapacityRecord:
        requests = [entry.cpu_request_millicores for entry in self.measurements]
        if len(set(requests)) != len(requests):
            raise refuse(reason="a CPU request is measured twice", field="measurements")
        return self

    def measurement_for(self, cpu_request_millicores: int) -> Measurement:
        for entry in self.measurements:
            if entry.cpu_request_millicores == cpu_request_millicores:
                return entry
        measured = ", ".join(f"{m.cpu_request_millicores}m" for m in self.measurements) or "none"
        msg = (
            f"no measurement at a CPU request of {cpu_request_millicores}m (measured: {measured}); "
            "run `make capacity`, which measures every environment's request"
        )
        raise CapacityError(msg)


def _parse(document: object, source: Path) -> CapacityRecord:
    try:
        return CapacityRecord.model_validate(document)
    except ValidationError as error:  # each problem as "dotted.field: reason"
        msg = f"{source}: " + "; ".join(describe_errors(error))
        raise CapacityError(msg) from error


def load_capacity_record(path: Path = CAPACITY_PATH) -> CapacityRecord:
    """Read and validate the record; CapacityError names the file and field on any problem."""
    try:
        return _parse(json.loads(path.read_text(encoding="utf-8")), path)
    except FileNotFoundError as error:
        msg = f"{path}: missing; run `make capacity` to measure and write it"
        raise CapacityError(msg) from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        msg = f"{path}: {error}"
        raise CapacityError(msg) from error


def write_capacity_record(document: dict[str, Any], path: Path = CAPACITY_PATH) -> None:
    """Validate ``document`` as a record, then replace ``path`` whole (never a truncated file)."""
    _parse(document, path)
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


@validate_call
def hpa_cpu_target_percent(
    measurement: Measurement,
    *,
    headroom: Annotated[float, Field(gt=0, le=1)] = HEADROOM,
    tolerance: Annotated[float, Field(ge=0, lt=1)] = HPA_TOLERANCE,
) -> int:
    """The HPA's averageUtilization: the most demanding endpoint's limit, with headroom, less tolerance;
    rounded down, since a lower target means more pods, never a pod past its limit."""
    limit = min(measurement.utilization(limit) for _, limit in measurement.limits())
    target = math.floor(limit * headroom / (1 + tolerance) * 100)
    if target < 1:
        msg = f"the measured limit ({limit:.1%} of the CPU request) leaves no usable HPA target"
        raise CapacityError(msg)
    return target


@validate_call
def pod_rate_at_target(
    measurement: Measurement, limit: Limit, *, target_percent: Annotated[int, Field(ge=1, le=100)]
) -> float:
    """Requests per second one pod serves when its CPU sits at the HPA target."""
    return limit.requests_per_second * (target_percent / 100) / measurement.utilization(limit)


class ReplicaPlan(_Model):
    # Pods the rate needs at the target, rounded up, before the HPA's bounds.
    needed: int
    # What the HPA runs: ``needed`` within [min, max].
    replicas: int

    @property
    def capped(self) -> bool:
        """True when max_replicas is too low for the rate: pods would run past the target."""
        return self.needed > self.replicas


@validate_call
def replicas_for(
    *, rate: NonNegative, pod_rate: Positive, min_replicas: PositiveInt, max_replicas: int
) -> ReplicaPlan:
    if min_replicas > max_replicas:
        msg = f"need 1 <= min_replicas ({min_replicas}) <= max_replicas ({max_replicas})"
        raise CapacityError(msg)
    needed = math.ceil(rate / pod_rate)
    return ReplicaPlan(needed=needed, replicas=min(max(needed, min_replicas), max_replicas))


class NodeShape(_Model):
    """What one node offers pods: allocatable capacity (after kube/system reserved) less DaemonSets."""

    name: str
    allocatable_cpu_millicores: PositiveInt
    allocatable_memory_mebibytes: PositiveInt
    # The node's pod limit (on EKS, from its ENIs: 29 on a *.large).
    max_pods: PositiveInt
    daemonset_cpu_millicores: NonNegativeInt
    daemonset_memory_mebibytes: NonNegativeInt
    daemonset_pods: NonNegativeInt


@validate_call
def pods_per_node(node: NodeShape, *, cpu_millicores: PositiveInt, memory_mebibytes: PositiveInt) -> int:
    """How many pods of these requests fit on one node next to its DaemonSets (the scheduler packs by
    requests)."""
    fits = min(
        (node.allocatable_cpu_millicores - node.daemonset_cpu_millicores) // cpu_millicores,
        (node.allocatable_memory_mebibytes - node.daemonset_memory_mebibytes) // memory_mebibytes,
        node.max_pods - node.daemonset_pods,
    )
    if fits < 1:
        shape = f"{cpu_millicores}m / {memory_mebibytes}Mi"
        msg = f"{node.name}: no pod of {shape} fits next to the DaemonSets; choose a larger instance"
        raise CapacityError(msg)
    return fits


@validate_call
def nodes_for(*, replicas: NonNegativeInt, per_node: PositiveInt, zones: PositiveInt = 1) -> int:
    """Nodes for ``replicas`` pods spread evenly over ``zones`` (maxSkew 1): a node serves one zone only."""
    base, extra = divmod(replicas, zones)  # the first ``extra`` zones get one pod more
    return sum(math.ceil((base + (zone < extra)) / per_node) for zone in range(zones))


@validate_call
def cost_per_million(*, nodes: PositiveInt, hourly_price: Positive, rate: Positive) -> float:
    """What a million predictions cost on ``nodes`` instances at ``hourly_price`` serving ``rate`` req/s."""
    return nodes * hourly_price / (rate * 3600) * 1_000_000
