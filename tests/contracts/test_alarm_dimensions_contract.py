"""The alarms watch the names the cluster and the load balancer publish: Container Insights' ClusterName,
Namespace and PodName are the planned cluster's name and the namespace and Deployment dist/ runs; the
TargetGroup and LoadBalancer dimensions are the ARN suffixes of the target group and load balancer infra/
plans; the CloudWatch agent labels the app's own metrics with the same cluster name.

Each side is read, never typed: dimensions, names and the agent's configuration from the offline plan,
the namespace and Deployment from dist/. ARN suffixes are known only after apply, so the plan shows them
as references: the observability module's inputs are followed back to the resource that makes them.
Every check also runs on a copy broken in the one way it exists to catch.
"""

from __future__ import annotations

import json

import pytest

from tests.support.sides import (
    after,
    broken,
    change,
    dist_objects,
    module_call,
    of_kind,
    output_source,
    wired,
)

pytestmark = [pytest.mark.slow, pytest.mark.system]

CLUSTER = "module.eks.aws_eks_cluster.this"
ALARM = "aws_cloudwatch_metric_alarm"
# Where each load balancer dimension's value comes from: observability input, module.alb output, resource.
LOAD_BALANCER_SOURCES = {
    "alb_arn_suffix": ("alb_arn_suffix", "aws_lb.this.arn_suffix"),
    "target_group_arn_suffix": ("target_group_arn_suffix", 'aws_lb_target_group.track["stable"].arn_suffix'),
}


def _workload(objects: list[dict]) -> tuple[str, str]:
    """The stable workload: the canary's pods run only during a release and are judged by the release."""
    (workload,) = {
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for d in of_kind(objects, "Deployment")
        if d["spec"]["template"]["metadata"]["labels"].get("track") != "canary"
    }
    return workload


def _alarms(plan: dict) -> list[dict]:
    return [rc for rc in plan["resource_changes"] if rc["type"] == ALARM]


def check_alarm_dimensions(plan: dict, objects: list[dict]) -> None:
    cluster = after(plan, CLUSTER)["name"]
    namespace, deployment = _workload(objects)
    pod_alarms = [rc for rc in _alarms(plan) if rc["change"]["after"].get("namespace") == "ContainerInsights"]
    assert pod_alarms, "no alarm reads Container Insights"
    for alarm in pod_alarms:
        assert alarm["change"]["after"]["dimensions"] == {
            "ClusterName": cluster,
            "Namespace": namespace,
            "PodName": deployment,
        }, f"{alarm['address']} watches pods that are not dist's"
    assert "module.eks.cluster_name" in wired(plan, "observability", "cluster_name")
    assert "aws_eks_cluster.this.name" in output_source(plan, "eks", "cluster_name")
    # AWS/ApplicationELB dimensions: unknown until apply, so each must come from the module's inputs...
    load_balancer_alarms = [
        rc for rc in _alarms(plan) if rc["change"]["after"].get("namespace") == "AWS/ApplicationELB"
    ]
    assert load_balancer_alarms, "no alarm reads the load balancer"
    for alarm in load_balancer_alarms:
        assert alarm["change"]["after_unknown"].get("dimensions") is True, (
            f"{alarm['address']} has dimensions known before the load balancer exists: typed, not read"
        )
    # ...which are the suffixes of the load balancer and target group module.alb creates.
    for argument, (output, resource) in LOAD_BALANCER_SOURCES.items():
        assert f"module.alb.{output}" in wired(plan, "observability", argument), f"{argument} is not read"
        assert resource in output_source(plan, "alb", output), f"module.alb's {output} is not {resource}"


def check_agent_cluster_name(plan: dict) -> None:
    configuration = json.loads(
        after(plan, "module.eks.aws_eks_addon.cloudwatch_observability")["configuration_values"]
    )
    prometheus = configuration["agent"]["config"]["logs"]["metrics_collected"]["prometheus"]
    assert prometheus["cluster_name"] == after(plan, CLUSTER)["name"], (
        "the app's metrics name another cluster"
    )


def test_alarms_watch_the_names_the_cluster_and_load_balancer_publish(plans):
    check_alarm_dimensions(plans["root"], dist_objects())


def test_the_agent_publishes_the_apps_metrics_under_the_clusters_name(plans):
    check_agent_cluster_name(plans["root"])


def _pod_dimensions(plan: dict, **values: str) -> None:
    change(plan, f"module.observability.{ALARM}.pod_cpu")["after"]["dimensions"].update(values)


def _wire(module: str, argument: str, reference: str):
    def rewire(plan: dict) -> None:
        module_call(plan, module)["expressions"][argument] = {"references": [reference]}

    return rewire


def _output(module: str, output: str, reference: str):
    def rewire(plan: dict) -> None:
        module_call(plan, module)["module"]["outputs"][output]["expression"] = {"references": [reference]}

    return rewire


@pytest.mark.parametrize(
    "break_it",
    [
        lambda p: _pod_dimensions(p, ClusterName="other-cluster"),
        lambda p: _pod_dimensions(p, Namespace="default"),
        lambda p: _pod_dimensions(p, PodName="other"),
        lambda p: after(p, CLUSTER).update(name="renamed-cluster"),
        lambda p: change(p, f"module.observability.{ALARM}.healthy_hosts_low")["after_unknown"].pop(
            "dimensions"
        ),
        _wire("observability", "cluster_name", "var.cluster_name"),
        _wire("observability", "target_group_arn_suffix", "module.alb.alb_arn_suffix"),
        _wire("observability", "alb_arn_suffix", "var.alb_arn_suffix"),
        _output("alb", "target_group_arn_suffix", "aws_lb.this.arn_suffix"),
        _output("eks", "cluster_name", "var.name"),
    ],
    ids=[
        "other-cluster",
        "other-namespace",
        "other-workload",
        "cluster-renamed",
        "typed-target-group",
        "cluster-typed",
        "target-group-is-the-load-balancer",
        "load-balancer-typed",
        "output-of-another-resource",
        "cluster-output-not-the-cluster",
    ],
)
def test_the_dimension_check_fails_on_a_broken_plan(plans, break_it):
    with pytest.raises(AssertionError):
        check_alarm_dimensions(broken(plans["root"], break_it), dist_objects())


def test_the_dimension_check_fails_when_dist_runs_another_workload(plans):
    objects = dist_objects()
    for deployment in (o for o in objects if o["kind"] == "Deployment"):
        deployment["metadata"]["name"] = "renamed"
    with pytest.raises(AssertionError):
        check_alarm_dimensions(plans["root"], objects)


def test_the_agent_check_fails_for_another_cluster(plans):
    def rename(plan: dict) -> None:
        addon = after(plan, "module.eks.aws_eks_addon.cloudwatch_observability")
        configuration = json.loads(addon["configuration_values"])
        configuration["agent"]["config"]["logs"]["metrics_collected"]["prometheus"]["cluster_name"] = "other"
        addon["configuration_values"] = json.dumps(configuration)

    with pytest.raises(AssertionError):
        check_agent_cluster_name(broken(plans["root"], rename))
