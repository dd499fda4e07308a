"""The capacity plan ``make capacity`` prints: per environment and endpoint, from the committed measurement
through manifests_py.capacity (the one place anything is derived) to replicas, nodes and cost."""

from __future__ import annotations

from dataclasses import dataclass

from manifests_py.capacity import (
    NodeShape,
    PodShape,
    cost_per_million,
    hpa_cpu_target_percent,
    nodes_for,
    pod_rate_at_target,
    pods_per_node,
    replicas_for,
)
from manifests_py.capacity_record import CapacityRecord
from manifests_py.config import EnvironmentConfig

__all__ = ["PlanRow", "plan_rows", "render_table"]


@dataclass(frozen=True, kw_only=True)
class PlanRow:
    environment: str
    endpoint: str
    cpu_request_millicores: int
    limit_per_second: float
    limit_p99_milliseconds: float
    hpa_target_percent: int
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
    configs: list[EnvironmentConfig],
    *,
    rate: float,
    node: NodeShape,
    hourly_price: float,
) -> list[PlanRow]:
    rows = []
    for config in configs:
        resources, scale = config.resources, config.scale
        measurement = record.measurement_for(resources.cpu_request_millicores)
        target = scale.cpu_target_percent or hpa_cpu_target_percent(measurement)
        per_node = pods_per_node(
            node,
            PodShape(
                cpu_request_millicores=resources.cpu_request_millicores,
                memory_request_mebibytes=resources.memory_request_mebibytes,
            ),
        )
        zones = len(config.node_pool.zones) if config.node_pool else 1
        for endpoint in measurement.endpoints:
            pod_rate = pod_rate_at_target(measurement, endpoint, target)
            # The HPA keeps at least one pod on EKS even where the config asks for zero (Knative).
            plan = replicas_for(
                rate, pod_rate=pod_rate, min_replicas=max(scale.min, 1), max_replicas=scale.max
            )
            nodes = nodes_for(plan.replicas, per_node=per_node, zones=zones)
            rows.append(
                PlanRow(
                    environment=config.name,
                    endpoint=endpoint.endpoint,
                    cpu_request_millicores=resources.cpu_request_millicores,
                    limit_per_second=endpoint.requests_per_second,
                    limit_p99_milliseconds=endpoint.p99_milliseconds,
                    hpa_target_percent=target,
                    pod_per_second=pod_rate,
                    rate=rate,
                    replicas_needed=plan.needed,
                    replicas=plan.replicas,
                    max_replicas=scale.max,
                    pods_per_node=per_node,
                    nodes=nodes,
                    cost_per_million=cost_per_million(nodes=nodes, hourly_price=hourly_price, rate=rate)
                    if rate > 0
                    else float("nan"),
                )
            )
    return rows


_HEADERS = (
    "env",
    "endpoint",
    "request",
    "limit req/s (p99)",
    "HPA target",
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
        f"{row.hpa_target_percent} %",
        f"{row.pod_per_second:,.0f}",
        replicas,
        str(row.pods_per_node),
        str(row.nodes),
        # Capped at max, the pods run past the objective: no honest price for this rate.
        f"{row.cost_per_million:.4f}" if row.replicas_needed <= row.replicas else "over max",
    )


def render_table(rows: list[PlanRow]) -> str:
    """A Markdown table (it reads as plain text too), one row per environment and endpoint."""
    table = [_HEADERS, *(_cells(row) for row in rows)]
    widths = [max(len(line[index]) for line in table) for index in range(len(_HEADERS))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(table[0]), rule, *(line(cells) for cells in table[1:])])
