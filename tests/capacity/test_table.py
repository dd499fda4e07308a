"""The plan `make capacity` prints: one row per environment and endpoint, every figure from the derivation."""

from __future__ import annotations

import math

from manifests_py.capacity import (
    NodeShape,
    PodShape,
    cost_per_million,
    hpa_cpu_target_percent,
    nodes_for,
    pod_rate_at_target,
    pods_per_node,
)
from manifests_py.capacity_record import load_capacity_record
from manifests_py.config import load_environment
from tests.capacity.conftest import make_capacity_arguments
from tools.load.capacity import _parser
from tools.load.capacity_table import plan_rows, render_table

NODE = NodeShape(
    name="c7i.large",
    allocatable_cpu_millicores=1930,
    allocatable_memory_mebibytes=3100,
    max_pods=29,
    daemonset_cpu_millicores=150,
    daemonset_memory_mebibytes=128,
    daemonset_pods=3,
)


def test_rows_come_from_the_derivation():
    record = load_capacity_record()
    prod = load_environment("prod")
    rows = plan_rows(record, [prod], rate=20_000, node=NODE, hourly_price=0.1)
    measurement = record.measurement_for(prod.resources.cpu_request_millicores)
    assert [row.endpoint for row in rows] == [e.endpoint for e in measurement.endpoints]
    target = hpa_cpu_target_percent(measurement)
    for row, endpoint in zip(rows, measurement.endpoints, strict=True):
        assert row.hpa_target_percent == target
        assert row.pod_per_second == pod_rate_at_target(measurement, endpoint, target)
        assert row.replicas_needed == math.ceil(20_000 / row.pod_per_second)
        assert prod.scale.min <= row.replicas <= prod.scale.max
        assert row.pods_per_node == (1930 - 150) // prod.resources.cpu_request_millicores
        assert row.nodes == nodes_for(
            row.replicas, per_node=row.pods_per_node, zones=len(prod.node_pool.zones)
        )
        assert row.cost_per_million == cost_per_million(nodes=row.nodes, hourly_price=0.1, rate=20_000)


def test_the_table_flags_a_rate_beyond_max_and_the_minimum_floor():
    record = load_capacity_record()
    prod = load_environment("prod")
    busy = render_table(plan_rows(record, [prod], rate=10**7, node=NODE, hourly_price=0.1))
    assert f"> max {prod.scale.max})" in busy
    assert "over max" in busy, "no price for a rate the pods cannot serve within the objective"
    quiet = render_table(plan_rows(record, [prod], rate=1, node=NODE, hourly_price=0.1))
    assert "(min; rate needs 1)" in quiet
    header, rule, *lines = quiet.splitlines()
    assert header.startswith("| env ")
    assert "HPA target" in header
    assert set(rule) <= {"|", "-"}
    assert len(lines) == len(record.measurement_for(prod.resources.cpu_request_millicores).endpoints)


def test_each_node_pool_limit_holds_the_hpa_maximum_on_the_documented_node():
    """Karpenter's cpu limit counts whole instances: the HPA's max replicas, spread over the zones on the
    Makefile's node, must fit under it, or scale-out would stop at Pending pods."""
    args = _parser().parse_args(["--plan-only", *make_capacity_arguments()])
    node = NodeShape(
        name=args.instance,
        allocatable_cpu_millicores=args.allocatable_cpu,
        allocatable_memory_mebibytes=args.allocatable_memory,
        max_pods=args.max_pods,
        daemonset_cpu_millicores=args.daemonset_cpu,
        daemonset_memory_mebibytes=args.daemonset_memory,
        daemonset_pods=args.daemonset_pods,
    )
    instance_cpu = math.ceil(args.allocatable_cpu / 1000) * 1000
    for name in ("dev", "prod"):
        config = load_environment(name)
        pod = PodShape(
            cpu_request_millicores=config.resources.cpu_request_millicores,
            memory_request_mebibytes=config.resources.memory_request_mebibytes,
        )
        nodes = nodes_for(
            config.scale.max, per_node=pods_per_node(node, pod), zones=len(config.node_pool.zones)
        )
        assert nodes * instance_cpu <= config.node_pool.cpu_limit_millicores, name
