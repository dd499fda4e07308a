"""The plan `make capacity` prints: one row per environment and endpoint, every figure from the derivation."""

from __future__ import annotations

import hashlib
import math

from manifests_py.config import load_environment
from tests.capacity.conftest import make_capacity_arguments
from tools.common import REPO_ROOT
from tools.load.capacity import (
    _parser,
    main,
    plan_rows,
    render_table,
    target_lines,
)
from tools.load.capacity_plan import (
    CAPACITY_PATH,
    NodeShape,
    cost_per_million,
    hpa_cpu_target_percent,
    load_capacity_record,
    nodes_for,
    pod_rate_at_target,
    pods_per_node,
)

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
    rows = plan_rows(record, [load_environment("prod")], rate=20_000, node=NODE, hourly_price=0.1)
    measurement = record.measurement_for(prod.resources.cpu_request_millicores)
    assert [(row.endpoint, row.limit) for row in rows] == measurement.limits()
    suggested = hpa_cpu_target_percent(measurement)
    # Replicas follow what the environment deploys; the measurement only suggests.
    target = prod.scale.cpu_target_percent or suggested
    for row in rows:
        assert row.suggested_target_percent == suggested
        assert row.environment.scale.cpu_target_percent == prod.scale.cpu_target_percent
        assert row.hpa_target_percent == target
        assert row.pod_per_second == pod_rate_at_target(measurement, row.limit, target_percent=target)
        assert row.replicas.needed == math.ceil(20_000 / row.pod_per_second)
        assert prod.scale.min <= row.replicas.replicas <= prod.scale.max
        assert row.pods_per_node == (1930 - 150) // prod.resources.cpu_request_millicores
        assert row.nodes == nodes_for(
            replicas=row.replicas.replicas, per_node=row.pods_per_node, zones=len(prod.node_pool.zones)
        )
        assert row.cost_per_million == cost_per_million(nodes=row.nodes, hourly_price=0.1, rate=20_000)


def test_the_table_flags_a_rate_beyond_max_and_the_minimum_floor():
    record = load_capacity_record()
    prod = load_environment("prod")
    busy = render_table(
        plan_rows(record, [load_environment("prod")], rate=10**7, node=NODE, hourly_price=0.1)
    )
    assert f"> max {prod.scale.max})" in busy
    assert "over max" in busy, "no price for a rate the pods cannot serve within the objective"
    quiet = render_table(plan_rows(record, [load_environment("prod")], rate=1, node=NODE, hourly_price=0.1))
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
    node = NodeShape.model_validate(vars(args))
    instance_cpu = math.ceil(node.allocatable_cpu_millicores / 1000) * 1000
    for name in ("dev", "prod"):
        config = load_environment(name)
        requests = config.resources
        per_node = pods_per_node(
            node,
            cpu_millicores=requests.cpu_request_millicores,
            memory_mebibytes=requests.memory_request_mebibytes,
        )
        nodes = nodes_for(replicas=config.scale.max, per_node=per_node, zones=len(config.node_pool.zones))
        assert nodes * instance_cpu <= config.node_pool.cpu_limit_millicores, name


def test_the_suggested_target_is_printed_next_to_the_configured_one():
    record = load_capacity_record()
    prod = load_environment("prod")
    suggested = hpa_cpu_target_percent(record.measurement_for(prod.resources.cpu_request_millicores))
    rows = plan_rows(record, [prod], rate=1000, node=NODE, hourly_price=0.1)
    (line,) = target_lines(rows)
    assert line.startswith("prod: HPA CPU target configured ")
    assert f"suggested {suggested} %" in line
    # A configured target that differs from the measurement is kept, and the way to adopt it is named.
    scale = prod.scale.model_copy(update={"cpu_target_percent": suggested - 10})
    other = prod.model_copy(update={"scale": scale})
    rows = plan_rows(record, [other], rate=1000, node=NODE, hourly_price=0.1)
    assert {row.hpa_target_percent for row in rows} == {suggested - 10}
    (line,) = target_lines(rows)
    assert f"configured {suggested - 10} %, suggested {suggested} %" in line
    assert f"cpu_target_percent = {suggested} in manifests_py/environments/prod.toml" in line
    assert f"| {suggested - 10} % " in render_table(rows)


def test_the_capacity_plan_writes_nothing_into_the_manifests_or_dist(capsys):
    def fingerprint():
        digest = hashlib.sha256()
        for folder in ("manifests_py", "dist"):
            for path in sorted((REPO_ROOT / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    digest.update(str(path).encode() + path.read_bytes())
        return digest.hexdigest()

    before = fingerprint()
    assert main(["--plan-only", *make_capacity_arguments()]) == 0
    printed = capsys.readouterr().out
    assert fingerprint() == before
    assert not CAPACITY_PATH.is_relative_to(REPO_ROOT / "manifests_py")
    for name in ("dev", "prod"):
        assert f"{name}: HPA CPU target configured" in printed
