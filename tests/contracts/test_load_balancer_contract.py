"""The load balancer and the pods agree: the target group sends traffic and health checks to the port and
readiness path the Service, the container and the card name; the security groups let the load balancer
reach that port and nothing else, on every node the pods may run on; /metrics, served by the app, is a
404 at the edge in the app's own error shape.

Each side is read, never typed: the target group, rules and listener rule from the offline plan, the
Service, Deployment, TargetGroupBinding and EC2NodeClass from dist/, the port and paths from the card,
the 404 from the running app. Every check also runs on a copy broken in the one way it exists to catch.
"""

from __future__ import annotations

import copy
import json
import tomllib

import pytest
import yaml
from litestar.testing import TestClient

from api.app import create_app
from api.lifecycle import Lifecycle
from api.service_card import load_service_card
from api.settings import load_settings
from tests.support.sides import (
    after,
    broken,
    change,
    dist_objects,
    module_call,
    of_kind,
    references,
    resource_config,
    wired,
)
from tools.common import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.system]

TARGET_GROUP = 'module.alb.aws_lb_target_group.track["stable"]'
ALB_SG = "aws_security_group.alb.id"
NODE_SG = "var.node_security_group_id"
RULE_TYPES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def _container_port(deployment: dict, target_port: int | str) -> int:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    ports = container["ports"]
    if isinstance(target_port, str):
        (port,) = [p["containerPort"] for p in ports if p.get("name") == target_port]
        return port
    assert target_port in {p["containerPort"] for p in ports}, f"no container port {target_port}"
    return target_port


def _readiness_path(deployment: dict) -> str:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container["readinessProbe"]["httpGet"]["path"]


def check_target_group(plan: dict, objects: list[dict], card: dict) -> None:
    group = after(plan, TARGET_GROUP)
    (health,) = group["health_check"]
    assert group["port"] == card["port"], (
        f"target group port {group['port']} is not the card's {card['port']}"
    )
    assert health["port"] == "traffic-port", "health checks go elsewhere than the traffic"
    assert health["path"] == card["paths"]["readiness"], f"health check {health['path']} is not readiness"
    services = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in of_kind(objects, "Service")}
    deployments = {
        (d["metadata"]["namespace"], d["metadata"]["name"]): d for d in of_kind(objects, "Deployment")
    }
    for binding in of_kind(objects, "TargetGroupBinding"):
        namespace, spec = binding["metadata"]["namespace"], binding["spec"]
        assert spec["targetType"] == group["target_type"], "pods registered as another target type"
        service = services[namespace, spec["serviceRef"]["name"]]
        (service_port,) = [p for p in service["spec"]["ports"] if p["port"] == spec["serviceRef"]["port"]]
        (deployment,) = [
            d
            for (ns, _), d in deployments.items()
            if ns == namespace
            and service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        # Type ip registers the pods: traffic and health checks arrive on the container port itself.
        port = _container_port(deployment, service_port["targetPort"])
        assert port == group["port"], f"pods listen on {port}, the target group sends to {group['port']}"
        assert _readiness_path(deployment) == health["path"], (
            "the pod and the load balancer judge readiness apart"
        )


def test_the_target_group_sends_to_the_pods_port_and_readiness_path(plans, service_card):
    check_target_group(plans["root"], dist_objects(), service_card)


def _dist_with(change_it) -> list[dict]:
    objects = copy.deepcopy(dist_objects())
    change_it(objects)
    return objects


def _deployments(objects: list[dict]) -> list[dict]:
    return [o for o in objects if o["kind"] == "Deployment"]


def _set_container(objects: list[dict], **values: object) -> None:
    for deployment in _deployments(objects):
        deployment["spec"]["template"]["spec"]["containers"][0].update(values)


@pytest.mark.parametrize(
    ("break_plan", "break_dist", "break_card"),
    [
        (lambda p: after(p, TARGET_GROUP).update(port=8080), None, None),
        (lambda p: after(p, TARGET_GROUP)["health_check"][0].update(path="/health"), None, None),
        (lambda p: after(p, TARGET_GROUP)["health_check"][0].update(port="9000"), None, None),
        (lambda p: after(p, TARGET_GROUP).update(target_type="instance"), None, None),
        (
            None,
            lambda o: [s["spec"]["ports"][0].update(targetPort=9000) for s in of_kind(o, "Service")],
            None,
        ),
        (None, lambda o: _set_container(o, ports=[{"containerPort": 9000, "name": "http"}]), None),
        (
            None,
            lambda o: _set_container(o, readinessProbe={"httpGet": {"path": "/health", "port": 8000}}),
            None,
        ),
        (None, None, lambda c: c.update(port=9000)),
        (None, None, lambda c: c["paths"].update(readiness="/health")),
    ],
    ids=[
        "tg-other-port",
        "tg-other-health-path",
        "tg-health-other-port",
        "tg-instance-targets",
        "service-other-target-port",
        "container-other-port",
        "probe-other-path",
        "card-other-port",
        "card-other-readiness",
    ],
)
def test_the_target_group_check_fails_when_one_side_moves(
    plans, service_card, break_plan, break_dist, break_card
):
    plan = broken(plans["root"], break_plan) if break_plan else plans["root"]
    objects = _dist_with(break_dist) if break_dist else dist_objects()
    card = copy.deepcopy(service_card)
    if break_card:
        break_card(card)
    with pytest.raises((AssertionError, ValueError)):
        check_target_group(plan, objects, card)


# ---------------------------------------------------------------- security groups


def _rules(plan: dict) -> list[tuple[str, dict, dict]]:
    """Every security group rule of the load balancer module: (address, planned values, configuration)."""
    found = []
    for rc in plan["resource_changes"]:
        if rc["type"] in RULE_TYPES and rc.get("module_address") == "module.alb":
            config = resource_config(plan, "alb", f"{rc['type']}.{rc['name']}")
            found.append((rc["address"], rc["change"]["after"], config["expressions"]))
    return found


def check_security_groups(plan: dict, port: int) -> None:
    """The load balancer's group may send only to the pods' group on the app port, and the pods' group
    admits the load balancer's on exactly that port: both halves of the one path, nothing more."""
    assert "module.eks.cluster_security_group_id" in wired(plan, "alb", "node_security_group_id"), (
        "the rules name another group than the one the nodes (and so the pods) carry"
    )
    egress = [r for r in _rules(plan) if ALB_SG in references(r[2]["security_group_id"]) and "egress" in r[0]]
    from_alb = [r for r in _rules(plan) if ALB_SG in references(r[2].get("referenced_security_group_id", {}))]
    assert egress, "the load balancer may send nowhere"
    assert from_alb, "nothing admits the load balancer"
    for address, values, expressions in egress:
        assert (values["ip_protocol"], values["from_port"], values["to_port"]) == ("tcp", port, port), address
        assert values.get("cidr_ipv4") is None, f"{address} opens a network"
        assert values.get("cidr_ipv6") is None, f"{address} opens a network"
        assert references(expressions.get("referenced_security_group_id", {})) == [NODE_SG], address
    for address, values, expressions in from_alb:
        assert "ingress" in address, address
        assert (values["ip_protocol"], values["from_port"], values["to_port"]) == ("tcp", port, port), address
        assert references(expressions["security_group_id"]) == [NODE_SG], address


def test_the_load_balancer_reaches_the_app_port_and_nothing_else(plans):
    check_security_groups(plans["root"], after(plans["root"], TARGET_GROUP)["port"])


def _rule(plan: dict, name: str) -> dict:
    kind = "egress" if name == "to_pods" else "ingress"
    return after(plan, f"module.alb.aws_vpc_security_group_{kind}_rule.{name}")


def _drop(plan: dict, name: str) -> None:
    plan["resource_changes"] = [
        rc for rc in plan["resource_changes"] if rc["address"] != f"module.alb.{name}"
    ]


@pytest.mark.parametrize(
    "break_it",
    [
        lambda p: _rule(p, "to_pods").update(from_port=0, to_port=65535),
        lambda p: _rule(p, "to_pods").update(ip_protocol="-1"),
        lambda p: _rule(p, "to_pods").update(cidr_ipv4="0.0.0.0/0"),
        lambda p: _rule(p, "pods_from_alb").update(from_port=22, to_port=22),
        lambda p: _drop(p, "aws_vpc_security_group_ingress_rule.pods_from_alb"),
        lambda p: _drop(p, "aws_vpc_security_group_egress_rule.to_pods"),
        lambda p: resource_config(p, "alb", "aws_vpc_security_group_egress_rule.to_pods")["expressions"][
            "referenced_security_group_id"
        ].update(references=["var.other_security_group_id"]),
    ],
    ids=[
        "all-ports",
        "all-protocols",
        "to-a-network",
        "pods-admit-another-port",
        "pods-closed",
        "alb-closed",
        "other-group",
    ],
)
def test_the_security_group_check_fails_on_a_wider_or_missing_rule(plans, break_it):
    plan = broken(plans["root"], break_it)
    with pytest.raises(AssertionError):
        check_security_groups(plan, after(plans["root"], TARGET_GROUP)["port"])


def test_the_security_group_check_fails_for_another_port(plans):
    with pytest.raises(AssertionError):
        check_security_groups(plans["root"], after(plans["root"], TARGET_GROUP)["port"] + 1)


# ---------------------------------------------------------------- the pods' nodes carry the admitted group


def _node_classes_by_cluster() -> dict[str, list[dict]]:
    """Each environment's EC2NodeClasses, by the cluster name its terraform outputs record."""
    found = {}
    for folder in sorted((REPO_ROOT / "dist").glob("*-cluster")):
        config = REPO_ROOT / "manifests_py" / "environments" / f"{folder.name.removesuffix('-cluster')}.toml"
        cluster = tomllib.loads(config.read_text(encoding="utf-8"))["terraform_outputs"]["cluster_name"]
        documents = (yaml.safe_load_all(path.read_text(encoding="utf-8")) for path in folder.glob("*.yaml"))
        found[cluster] = [d for docs in documents for d in docs if d and d["kind"] == "EC2NodeClass"]
    assert any(found.values()), "dist/ has no EC2NodeClass"
    return found


def check_nodes_carry_the_admitted_group(plan: dict, node_classes: dict[str, list[dict]]) -> None:
    """With the VPC CNI a pod has its node's security groups: every node must carry the group the load
    balancer's rules admit. Managed nodes get the cluster group when their launch template names none;
    Karpenter's nodes get the groups their EC2NodeClass selects by tag, which infra/ puts on that group."""
    admitted = wired(plan, "alb", "node_security_group_id")
    (template,) = [
        rc["change"]["after"] for rc in plan["resource_changes"] if rc["type"] == "aws_launch_template"
    ]
    assert not template.get("vpc_security_group_ids"), "managed nodes carry other groups than the cluster's"
    assert not any(i.get("security_groups") for i in template.get("network_interfaces") or []), "nor here"
    assert wired(plan, "karpenter", "node_security_group_id") == admitted, (
        "the tagged group is not the admitted one"
    )
    tag_config = resource_config(plan, "karpenter", "aws_ec2_tag.node_security_group")["expressions"]
    assert references(tag_config["resource_id"]) == ["var.node_security_group_id"]
    tags = {
        rc["change"]["after"]["key"]: rc["change"]["after"]["value"]
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_ec2_tag" and rc.get("module_address") == "module.karpenter"
    }
    planned_cluster = after(plan, "module.eks.aws_eks_cluster.this")["name"]
    for cluster, classes in node_classes.items():
        for node_class in classes:
            for term in node_class["spec"]["securityGroupSelectorTerms"]:
                selected = term.get("tags", {})
                assert selected, f"{cluster}: nodes select groups by something infra/ does not set"
                assert selected.keys() <= tags.keys(), f"{cluster}: nodes select by tags infra/ never sets"
                # The same scheme on both sides: infra/ tags with the planned cluster's name, dist/ selects
                # with the cluster name that environment's terraform outputs record.
                for key, value in selected.items():
                    assert tags[key] == planned_cluster, f"infra/ tags {key} with another name"
                    assert value == cluster, f"{cluster}: nodes select {key}={value}, not their cluster's"


def test_every_node_carries_the_group_the_load_balancer_is_admitted_to(plans):
    check_nodes_carry_the_admitted_group(plans["root"], _node_classes_by_cluster())


def _select(node_classes: dict[str, list[dict]], tags: dict[str, str]) -> dict[str, list[dict]]:
    changed = copy.deepcopy(node_classes)
    for classes in changed.values():
        for node_class in classes:
            node_class["spec"]["securityGroupSelectorTerms"] = [{"tags": tags}]
    return changed


def _launch_template(plan: dict) -> dict:
    (rc,) = [rc for rc in plan["resource_changes"] if rc["type"] == "aws_launch_template"]
    return rc["change"]["after"]


@pytest.mark.parametrize(
    ("break_plan", "tags"),
    [
        (lambda p: _launch_template(p).update(vpc_security_group_ids=["sg-0123456789abcdef0"]), None),
        (
            lambda p: module_call(p, "karpenter")["expressions"].update(
                node_security_group_id={"references": ["module.alb.security_group_id"]}
            ),
            None,
        ),
        (None, {"Name": "nodes"}),
        (None, {"karpenter.sh/discovery": "another-cluster"}),
        (None, {}),
    ],
    ids=[
        "managed-nodes-other-group",
        "tags-another-group",
        "selects-other-tag",
        "selects-other-cluster",
        "no-tags",
    ],
)
def test_the_node_group_check_fails_when_nodes_miss_the_group(plans, break_plan, tags):
    plan = broken(plans["root"], break_plan) if break_plan else plans["root"]
    node_classes = (
        _select(_node_classes_by_cluster(), tags) if tags is not None else _node_classes_by_cluster()
    )
    with pytest.raises(AssertionError):
        check_nodes_carry_the_admitted_group(plan, node_classes)


# ---------------------------------------------------------------- /metrics at the edge


@pytest.fixture(scope="module")
def app_not_found() -> tuple[str, str]:
    """What the app itself answers for a path it does not serve: the error shape clients know."""
    card = load_service_card()
    app = create_app(load_settings({}, card=card), lifecycle=Lifecycle(), card=card)
    with TestClient(app=app) as client:
        assert client.get(card.paths.metrics).status_code == 200, "the app no longer serves its metrics"
        response = client.get(f"{card.paths.metrics}/not-served")
    assert response.status_code == 404
    return response.headers["content-type"].split(";")[0], response.text


def check_metrics_is_a_404_at_the_edge(plan: dict, metrics_path: str, not_found: tuple[str, str]) -> None:
    rule = after(plan, "module.alb.aws_lb_listener_rule.internal_paths[0]")
    (condition,) = rule["condition"]
    assert set(condition["path_pattern"][0]["values"]) == {metrics_path, f"{metrics_path}/*"}
    (action,) = rule["action"]
    assert action["type"] == "fixed-response"
    response = action["fixed_response"][0]
    content_type, body = not_found
    assert response["status_code"] == "404"
    assert response["content_type"] == content_type, "not the app's error media type"
    assert json.loads(response["message_body"]) == json.loads(body), "not the app's own 404"
    assert rule["priority"] == 1, "the rule must come before anything else the listener does"
    listener = resource_config(plan, "alb", "aws_lb_listener_rule.internal_paths")["expressions"]
    assert "aws_lb_listener.https.arn" in references(listener["listener_arn"])


def test_the_metrics_path_is_the_apps_own_404_on_the_https_listener(plans, service_card, app_not_found):
    check_metrics_is_a_404_at_the_edge(plans["root"], service_card["paths"]["metrics"], app_not_found)


def _edge_response(plan: dict) -> dict:
    return after(plan, "module.alb.aws_lb_listener_rule.internal_paths[0]")["action"][0]["fixed_response"][0]


@pytest.mark.parametrize(
    "break_it",
    [
        lambda p: after(p, "module.alb.aws_lb_listener_rule.internal_paths[0]")["condition"][0][
            "path_pattern"
        ][0].update(values=["/other"]),
        lambda p: _edge_response(p).update(status_code="200"),
        lambda p: _edge_response(p).update(message_body='{"message": "Not Found"}'),
        lambda p: change(p, "module.alb.aws_lb_listener_rule.internal_paths[0]")["after"].update(
            priority=100
        ),
    ],
    ids=["other-path", "not-404", "other-shape", "after-other-rules"],
)
def test_the_edge_check_fails_on_a_broken_plan(plans, service_card, app_not_found, break_it):
    with pytest.raises(AssertionError):
        check_metrics_is_a_404_at_the_edge(
            broken(plans["root"], break_it), service_card["paths"]["metrics"], app_not_found
        )
