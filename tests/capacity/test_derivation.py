"""tools.load.capacity_plan: the one place the HPA target, replicas, nodes and cost are derived."""

from __future__ import annotations

import math

import pytest

from tools.load.capacity_plan import (
    HEADROOM,
    HPA_TOLERANCE,
    Limit,
    Measurement,
    NodeShape,
    cost_per_million,
    hpa_cpu_target_percent,
    nodes_for,
    pod_rate_at_target,
    pods_per_node,
    replicas_for,
)


def limit(rate=8000.0, cpu=450.0):
    return Limit(requests_per_second=rate, p99_milliseconds=30.0, cpu_millicores=cpu)


def measurement(limits=None, request=500):
    endpoints = {name: {"limit": value} for name, value in (limits or {"GET /predict": limit()}).items()}
    return Measurement(cpu_request_millicores=request, endpoints=endpoints)


NODE = NodeShape(
    name="c7i.large",
    allocatable_cpu_millicores=1930,
    allocatable_memory_mebibytes=3100,
    max_pods=29,
    daemonset_cpu_millicores=150,
    daemonset_memory_mebibytes=128,
    daemonset_pods=3,
)
POD = {"cpu_millicores": 500, "memory_mebibytes": 256}


def test_hpa_target_is_the_limit_with_headroom_less_tolerance_rounded_down():
    # 450m of a 500m request = 90 % at the limit; 90 * 0.8 / 1.1 = 65.45 -> 65.
    assert hpa_cpu_target_percent(measurement()) == math.floor(90 * HEADROOM / (1 + HPA_TOLERANCE))
    assert hpa_cpu_target_percent(measurement()) == 65


def test_hpa_target_follows_the_most_demanding_endpoint():
    light, heavy = limit(cpu=480.0), limit(rate=3000.0, cpu=400.0)
    both = measurement({"GET /predict": light, "POST /predict": heavy})
    assert hpa_cpu_target_percent(both) == hpa_cpu_target_percent(measurement({"POST /predict": heavy}))


def test_at_the_target_with_tolerance_a_pod_stays_below_its_measured_limit():
    m = measurement({"GET /predict": limit(cpu=500.0), "POST /predict": limit(rate=3000.0, cpu=470.0)})
    target = hpa_cpu_target_percent(m)
    for _, at_limit in m.limits():
        # The HPA acts only above target * (1 + tolerance); even there the pod has headroom left.
        rate = pod_rate_at_target(m, at_limit, target_percent=target)
        assert rate * (1 + HPA_TOLERANCE) <= at_limit.requests_per_second * HEADROOM


def test_a_pod_at_the_target_serves_proportionally_less_than_at_its_limit():
    m = measurement()
    assert pod_rate_at_target(m, limit(), target_percent=45) == pytest.approx(8000 * 0.45 / 0.9)


@pytest.mark.parametrize("rate", [0, 1, 999, 1000, 1001, 25_000, 10**6])
def test_replicas_round_up_and_respect_min_and_max(rate):
    plan = replicas_for(rate=rate, pod_rate=1000.0, min_replicas=3, max_replicas=12)
    assert plan.needed == math.ceil(rate / 1000)
    assert 3 <= plan.replicas <= 12
    assert plan.replicas == min(max(plan.needed, 3), 12)
    assert plan.capped == (plan.needed > 12)
    assert plan.replicas * 1000 >= min(rate, 12_000), "rounded up, never down"


def test_replicas_nodes_and_cost_are_monotonic_in_load():
    rates = [0, 10, 500, 1000, 2500, 5000, 7500, 10_000, 20_000, 50_000]
    replicas = [
        replicas_for(rate=r, pod_rate=700.0, min_replicas=1, max_replicas=1000).replicas for r in rates
    ]
    assert replicas == sorted(replicas)
    per_node = pods_per_node(NODE, **POD)
    nodes = [nodes_for(replicas=n, per_node=per_node, zones=3) for n in replicas]
    assert nodes == sorted(nodes)
    # Per prediction, the same nodes cost less the more they serve; more nodes cost more at one rate.
    costs = [cost_per_million(nodes=3, hourly_price=0.1, rate=r) for r in rates[1:]]
    assert costs == sorted(costs, reverse=True)
    by_nodes = [cost_per_million(nodes=n, hourly_price=0.1, rate=1000) for n in (1, 2, 5)]
    assert by_nodes == sorted(by_nodes)


def test_pods_per_node_takes_the_tightest_resource_after_daemonsets():
    assert pods_per_node(NODE, **POD) == (1930 - 150) // 500  # CPU-bound: 3
    memory_bound = pods_per_node(NODE, cpu_millicores=100, memory_mebibytes=1024)
    assert memory_bound == (3100 - 128) // 1024
    tiny = pods_per_node(NODE, cpu_millicores=10, memory_mebibytes=16)
    assert tiny == 29 - 3, "the node's pod limit counts DaemonSet pods too"


def test_nodes_follow_the_zone_spread():
    assert nodes_for(replicas=0, per_node=3, zones=3) == 0
    assert nodes_for(replicas=3, per_node=3, zones=1) == 1
    assert nodes_for(replicas=3, per_node=3, zones=3) == 3, "one pod per zone needs a node in each zone"
    assert nodes_for(replicas=10, per_node=3, zones=3) == 2 + 1 + 1  # 4 + 3 + 3 pods
    assert nodes_for(replicas=10, per_node=3, zones=1) == 4
    assert nodes_for(replicas=9, per_node=3, zones=3) == 3


def test_cost_per_million():
    # 3 nodes at $0.10/h serving 1000 req/s: $0.30 per 3.6 M predictions.
    assert cost_per_million(nodes=3, hourly_price=0.10, rate=1000) == pytest.approx(0.30 / 3.6)


# Bounds are declared on the models and arguments (pydantic names the field); rules spanning several
# values raise CapacityError. Both are ValueErrors, which is what the command reports as bad input.
@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: replicas_for(rate=-1, pod_rate=10, min_replicas=1, max_replicas=2),
            r"rate\n  Input should be greater than or equal to 0",
        ),
        (
            lambda: replicas_for(rate=math.nan, pod_rate=10, min_replicas=1, max_replicas=2),
            r"rate\n  Input should be a finite number",
        ),
        (
            lambda: replicas_for(rate=10, pod_rate=0, min_replicas=1, max_replicas=2),
            r"pod_rate\n  Input should be greater than 0",
        ),
        (
            lambda: replicas_for(rate=10, pod_rate=10, min_replicas=3, max_replicas=2),
            r"min_replicas \(3\) <= max",
        ),
        (
            lambda: replicas_for(rate=10, pod_rate=10, min_replicas=0, max_replicas=2),
            r"min_replicas\n  Input should be greater than 0",
        ),
        (
            lambda: nodes_for(replicas=-1, per_node=3),
            r"replicas\n  Input should be greater than or equal to 0",
        ),
        (lambda: nodes_for(replicas=3, per_node=0), r"per_node\n  Input should be greater than 0"),
        (lambda: nodes_for(replicas=3, per_node=3, zones=0), r"zones\n  Input should be greater than 0"),
        (
            lambda: cost_per_million(nodes=1, hourly_price=0, rate=10),
            r"hourly_price\n  Input should be greater than 0",
        ),
        (
            lambda: cost_per_million(nodes=1, hourly_price=1, rate=0),
            r"rate\n  Input should be greater than 0",
        ),
        (lambda: hpa_cpu_target_percent(measurement(), headroom=0), r"headroom\n  Input should be greater"),
        (lambda: hpa_cpu_target_percent(measurement(), headroom=1.5), r"headroom\n  Input should be less"),
        (lambda: hpa_cpu_target_percent(measurement(), tolerance=-0.1), r"tolerance\n  Input should be"),
        (
            lambda: hpa_cpu_target_percent(measurement({"GET /predict": limit(cpu=1.0)})),
            r"leaves no usable HPA target",
        ),
        (
            lambda: pod_rate_at_target(measurement(), limit(), target_percent=0),
            r"target_percent\n  Input should be greater than or equal to 1",
        ),
        (lambda: limit(rate=0), r"requests_per_second\n  Input should be greater than 0"),
        (lambda: limit(cpu=-5), r"cpu_millicores\n  Input should be greater than 0"),
        (lambda: measurement(request=0), r"cpu_request_millicores\n  Input should be greater than 0"),
        (
            lambda: Measurement(cpu_request_millicores=500, endpoints={}),
            r"endpoints\n  Dictionary should have at least 1 item",
        ),
        (
            lambda: pods_per_node(NODE, cpu_millicores=0, memory_mebibytes=1),
            r"cpu_millicores\n  Input should be greater than 0",
        ),
        (
            lambda: pods_per_node(NODE, cpu_millicores=4000, memory_mebibytes=1),
            r"c7i.large: no pod of 4000m / 1Mi fits",
        ),
        (
            lambda: NodeShape(
                name="x",
                allocatable_cpu_millicores=0,
                allocatable_memory_mebibytes=1,
                max_pods=1,
                daemonset_cpu_millicores=0,
                daemonset_memory_mebibytes=0,
                daemonset_pods=0,
            ),
            r"allocatable_cpu_millicores\n  Input should be greater than 0",
        ),
        (
            lambda: NodeShape.model_validate({**NODE.model_dump(), "daemonset_pods": -1}),
            r"daemonset_pods\n  Input should be greater than or equal to 0",
        ),
    ],
)
def test_invalid_inputs_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
