"""The capacity plan ``make capacity`` prints: per environment and endpoint, from the committed measurement
through tools.load.capacity_plan (the one place anything is derived) to replicas, nodes and cost, with the
HPA target the measurement suggests next to the one the environment configures."""

from __future__ import annotations

from dataclasses import dataclass

from manifests_py.config import load_environment
from tools.common import markdown_table
from tools.load.capacity_plan import (
    NodeShape,
    PodShape,
    cost_per_million,
    hpa_cpu_target_percent,
    nodes_for,
    pod_rate_at_target,
    pods_per_node,
    replicas_for,
)
from tools.load.capacity_record import CapacityRecord

__all__ = ["Environment", "PlanRow", "plan_rows", "read_environment", "render_table", "target_lines"]


@dataclass(frozen=True, kw_only=True)
class Environment:
    """What the plan needs of one environment's configuration (manifests_py/environments/NAME.toml)."""

    name: str
    cpu_request_millicores: int
    memory_request_mebibytes: int
    min_replicas: int
    max_replicas: int
    zones: int
    # The HPA's CPU target the environment configures (what dist/ deploys); None: not configured.
    cpu_target_percent: int | None


def read_environment(name: str) -> Environment:
    """The one place the capacity tool reads an environment, through the manifests models."""
    config = load_environment(name)
    return Environment(
        name=config.name,
        cpu_request_millicores=config.resources.cpu_request_millicores,
        memory_request_mebibytes=config.resources.memory_request_mebibytes,
        min_replicas=config.scale.min,
        max_replicas=config.scale.max,
        zones=len(config.node_pool.zones) if config.node_pool else 1,
        cpu_target_percent=config.scale.cpu_target_percent,
    )


@dataclass(frozen=True, kw_only=True)
class PlanRow:
    environment: str
    endpoint: str
    cpu_request_millicores: int
    limit_per_second: float
    limit_p99_milliseconds: float
    # The target the replicas below are planned at: the configured one (the suggested one if none is).
    hpa_target_percent: int
    configured_target_percent: int | None
    suggested_target_percent: int
    pod_per_second: float
    rate: float
    replicas_needed: int
    replicas: int
    max_replicas: int
    pods_per_node: int
    nodes: int
    cost_per_million: float


def plan_rows(
    record: CapacityRecord,
    environments: list[Environment],
    *,
    rate: float,
    node: NodeShape,
    hourly_price: float,
) -> list[PlanRow]:
    rows = []
    for env in environments:
        measurement = record.measurement_for(env.cpu_request_millicores)
        suggested = hpa_cpu_target_percent(measurement)
        target = env.cpu_target_percent or suggested
        pod = PodShape(
            cpu_request_millicores=env.cpu_request_millicores,
            memory_request_mebibytes=env.memory_request_mebibytes,
        )
        per_node = pods_per_node(node, pod)
        for endpoint in measurement.endpoints:
            pod_rate = pod_rate_at_target(measurement, endpoint, target)
            # The HPA keeps at least one pod on EKS even where the config asks for zero (Knative).
            plan = replicas_for(
                rate, pod_rate=pod_rate, min_replicas=max(env.min_replicas, 1), max_replicas=env.max_replicas
            )
            nodes = nodes_for(plan.replicas, per_node=per_node, zones=env.zones)
            rows.append(
                PlanRow(
                    environment=env.name,
                    endpoint=endpoint.endpoint,
                    cpu_request_millicores=env.cpu_request_millicores,
                    limit_per_second=endpoint.requests_per_second,
                    limit_p99_milliseconds=endpoint.p99_milliseconds,
                    hpa_target_percent=target,
                    configured_target_percent=env.cpu_target_percent,
                    suggested_target_percent=suggested,
                    pod_per_second=pod_rate,
                    rate=rate,
                    replicas_needed=plan.needed,
                    replicas=plan.replicas,
                    max_replicas=env.max_replicas,
                    pods_per_node=per_node,
                    nodes=nodes,
                    cost_per_million=cost_per_million(nodes=nodes, hourly_price=hourly_price, rate=rate)
                    if rate > 0
                    else float("nan"),
                )
            )
    return rows


def target_lines(rows: list[PlanRow]) -> list[str]:
    """Per environment: the configured HPA target beside the suggested one, and what to do if they differ."""
    lines = []
    for row in {row.environment: row for row in rows}.values():
        configured = (
            "not set" if row.configured_target_percent is None else f"{row.configured_target_percent} %"
        )
        suggested = row.suggested_target_percent
        line = f"{row.environment}: HPA CPU target configured {configured}, suggested {suggested} %"
        if row.configured_target_percent != suggested:
            line += (
                f" (to adopt it: [scale] cpu_target_percent = {suggested} in "
                f"manifests_py/environments/{row.environment}.toml, then make synth)"
            )
        lines.append(line)
    return lines


_HEADERS = (
    "env",
    "endpoint",
    "request",
    "limit req/s (p99)",
    "HPA target",
    "suggested",
    "pod req/s at target",
    "replicas for rate",
    "pods/node",
    "nodes",
    "$ per 1M",
)


def _cells(row: PlanRow) -> tuple[str, ...]:
    replicas = f"{row.replicas}"
    if row.replicas_needed > row.replicas:
        replicas += f" (needs {row.replicas_needed} > max {row.max_replicas})"
    elif row.replicas_needed < row.replicas:
        replicas += f" (min; rate needs {row.replicas_needed})"
    return (
        row.environment,
        row.endpoint,
        f"{row.cpu_request_millicores}m",
        f"{row.limit_per_second:,.0f} ({row.limit_p99_milliseconds:.1f} ms)",
        f"{row.hpa_target_percent} %" + ("" if row.configured_target_percent else " (suggested)"),
        f"{row.suggested_target_percent} %",
        f"{row.pod_per_second:,.0f}",
        replicas,
        str(row.pods_per_node),
        str(row.nodes),
        # Capped at max, the pods run past the objective: no honest price for this rate.
        f"{row.cost_per_million:.4f}" if row.replicas_needed <= row.replicas else "over max",
    )


def render_table(rows: list[PlanRow]) -> str:
    """One row per environment and endpoint."""
    return markdown_table(_HEADERS, [_cells(row) for row in rows])
