"""The NetworkPolicy in dist/ against the planned infrastructure: it admits the app port from the load
balancer's subnets and the metrics scraper's namespace as Terraform plans them, and nothing else."""

from __future__ import annotations

import pytest

from tests.contracts.conftest import broken, module_input, one, output

pytestmark = [pytest.mark.slow, pytest.mark.system]

NAMESPACE_NAME = "kubernetes.io/metadata.name"


def _module_call(plan: dict, name: str) -> dict:
    return plan["configuration"]["root_module"]["module_calls"][name]


def check_network_policy(plan: dict, objects: list[dict], port: int) -> None:
    policy = one(objects, "NetworkPolicy")["spec"]
    root = plan["configuration"]["root_module"]
    # The output is the ALB's subnets: the ALB is placed in the subnets whose CIDRs the output lists.
    assert (
        "module.network.public_subnet_ids"
        in _module_call(plan, "alb")["expressions"]["public_subnet_ids"]["references"]
    )
    assert (
        root["outputs"]["alb_subnet_cidrs"]["expression"]["references"][0]
        == "module.network.public_subnet_cidrs"
    )
    peers = [peer for rule in policy["ingress"] for peer in rule["from"]]
    cidrs = sorted(peer["ipBlock"]["cidr"] for peer in peers if "ipBlock" in peer)
    assert cidrs == sorted(output(plan, "alb_subnet_cidrs")), f"{cidrs} are not the ALB's subnets"
    # The scraper's namespace is where the CloudWatch agent's Pod Identity role trusts its service account.
    agent_namespace = module_input(plan, ("eks", "cloudwatch_agent_role"), "namespace")
    assert output(plan, "metrics_scraper_namespace") == agent_namespace
    namespaces = [
        peer["namespaceSelector"].get("matchLabels", {}).get(NAMESPACE_NAME)
        for peer in peers
        if "namespaceSelector" in peer
    ]
    assert namespaces == [agent_namespace], f"{namespaces} is not the agent's namespace {agent_namespace}"
    assert all(("ipBlock" in peer) != ("namespaceSelector" in peer) for peer in peers), "a peer admits more"
    for rule in policy["ingress"]:
        assert rule["ports"] == [{"port": port, "protocol": "TCP"}], rule
    service = one(objects, "Service")["spec"]
    assert [p["targetPort"] for p in service["ports"]] == [port], "the Service targets another port"
    (container,) = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert [p["containerPort"] for p in container["ports"]] == [port]


def test_the_network_policy_admits_the_planned_load_balancer_and_scraper(plans, dist, service_card):
    check_network_policy(plans["root"], dist, service_card["port"])


def _ingress(objects: list[dict]) -> list[dict]:
    return one(objects, "NetworkPolicy")["spec"]["ingress"]


@pytest.mark.parametrize(
    ("break_plan", "break_dist"),
    [
        (lambda p: p["planned_values"]["outputs"]["alb_subnet_cidrs"].update(value=["10.0.0.0/20"]), None),
        (
            lambda p: _module_call(p, "alb")["expressions"]["public_subnet_ids"].update(
                references=["module.network.private_subnet_ids", "module.network"]
            ),
            None,
        ),
        (
            lambda p: p["configuration"]["root_module"]["module_calls"]["eks"]["module"]["module_calls"][
                "cloudwatch_agent_role"
            ]["expressions"].update(namespace={"constant_value": "monitoring"}),
            None,
        ),
        (
            None,
            lambda d: _ingress(d).append(
                {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": _ingress(d)[0]["ports"]}
            ),
        ),
        (None, lambda d: _ingress(d)[-1].update({"from": [{"namespaceSelector": {}}]})),
        (None, lambda d: _ingress(d)[0]["from"].append({"podSelector": {}})),
        (None, lambda d: _ingress(d)[-1]["ports"].append({"port": 9090, "protocol": "TCP"})),
        (None, lambda d: one(d, "Service")["spec"]["ports"][0].update(targetPort=8080)),
    ],
    ids=[
        "other-subnets",
        "alb-elsewhere",
        "other-agent-namespace",
        "world-open",
        "all-namespaces",
        "own-namespace",
        "extra-port",
        "service-port",
    ],
)
def test_the_network_policy_contract_fails_on_a_broken_side(
    plans, dist, service_card, break_plan, break_dist
):
    plan = broken(plans["root"], break_plan) if break_plan else plans["root"]
    objects = broken(dist, break_dist) if break_dist else dist
    with pytest.raises(AssertionError):
        check_network_policy(plan, objects, service_card["port"])
