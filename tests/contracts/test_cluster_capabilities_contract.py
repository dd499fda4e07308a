"""Every capability a dist/ object needs is provided by Kubernetes itself, an add-on in the offline plan or
a chart of the bootstrap command; the CloudWatch agent scrapes what the app serves where dist/ runs it, and
publishes requests, errors and latency by route.

Each side is read, never typed: dist/ from its YAML, the add-ons and the scrape configuration from the plan,
the charts from tools/cluster_bootstrap.py, the metric names from the app's own /metrics. Every check also
runs on a copy broken in the one way it exists to catch.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Callable, Iterable

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.lifecycle import Lifecycle
from api.service_card import load_service_card
from api.settings import load_settings
from tests.support.sides import dist_objects
from tools.cluster_bootstrap import CHARTS

pytestmark = [pytest.mark.slow, pytest.mark.system]

CSI_DRIVER = "secrets-store.csi.k8s.io"
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
# What each provider installs (upstream facts: the add-on's or chart's documented contents).
ADD_ONS = {
    "metrics-server": {"metrics.k8s.io resource metrics"},
    "aws-secrets-store-csi-driver-provider": {
        "secrets-store.csi.x-k8s.io/v1 SecretProviderClass",
        f"{CSI_DRIVER} volumes",
    },
    "amazon-cloudwatch-observability": {"Container Insights metrics"},
}
CHART_CONTENTS = {
    "aws-load-balancer-controller": {"elbv2.k8s.aws/v1beta1 TargetGroupBinding", "readiness-gate injection"},
    "karpenter-crd": {"karpenter.sh/v1 NodePool", "karpenter.k8s.aws/v1 EC2NodeClass"},
    "karpenter": {"Karpenter controller"},
}
ADDONS = "module.eks.aws_eks_addon"
SAMPLE_TYPE = r"^# TYPE (\S+) (\S+)$"
# Dimensions the agent adds to every series it publishes (ClusterName) or the scrape relabels (Namespace).
AGENT_DIMENSIONS = {"ClusterName", "Namespace"}


def _is_built_in(api_version: str) -> bool:
    """Kubernetes' own API groups: the core and dotless groups, and *.k8s.io (x-k8s.io is SIG projects')."""
    group = api_version.rpartition("/")[0]
    return "." not in group or (group.endswith(".k8s.io") and not group.endswith(".x-k8s.io"))


def _pod_specs(objects: Iterable[dict]) -> list[dict]:
    return [o["spec"]["template"]["spec"] for o in objects if o.get("spec", {}).get("template")]


def _alarms(plan: dict) -> list[dict]:
    return [rc for rc in plan["resource_changes"] if rc["type"] == "aws_cloudwatch_metric_alarm"]


def required_capabilities(objects: list[dict], plan: dict) -> set[str]:
    """What dist/ (and the alarms reading Container Insights) need the cluster to have."""
    needed = {f"{o['apiVersion']} {o['kind']}" for o in objects if not _is_built_in(o["apiVersion"])}
    for hpa in (o for o in objects if o["kind"] == "HorizontalPodAutoscaler"):
        if any(metric["type"] == "Resource" for metric in hpa["spec"].get("metrics", [])):
            needed.add("metrics.k8s.io resource metrics")
    if any(o["kind"] == "NetworkPolicy" for o in objects):
        needed.add("NetworkPolicy enforcement")
    if any(
        o["kind"] == "Namespace" and o["metadata"].get("labels", {}).get(READINESS_GATE_LABEL)
        for o in objects
    ):
        needed.add("readiness-gate injection")
    volumes = [volume for spec in _pod_specs(objects) for volume in spec.get("volumes", [])]
    if any(volume.get("csi", {}).get("driver") == CSI_DRIVER for volume in volumes):
        needed.add(f"{CSI_DRIVER} volumes")
    if any(rc["change"]["after"].get("namespace") == "ContainerInsights" for rc in _alarms(plan)):
        needed.add("Container Insights metrics")
    if any(o["kind"] in {"NodePool", "EC2NodeClass"} for o in objects):
        needed.add("Karpenter controller")
    return needed


def provided_capabilities(plan: dict, charts: Iterable[str]) -> set[str]:
    provided = {capability for chart in charts for capability in CHART_CONTENTS.get(chart, ())}
    for change in (rc["change"]["after"] for rc in plan["resource_changes"] if rc["type"] == "aws_eks_addon"):
        provided |= ADD_ONS.get(change["addon_name"], set())
        # The CNI enforces NetworkPolicy only when its configuration says so; OVERWRITE keeps it on.
        configuration = json.loads(change.get("configuration_values") or "{}")
        if change["addon_name"] == "vpc-cni" and configuration.get("enableNetworkPolicy") == "true":
            provided |= (
                {"NetworkPolicy enforcement"}
                if change["resolve_conflicts_on_update"] == "OVERWRITE"
                else set()
            )
    return provided


def check_capabilities(objects: list[dict], plan: dict, charts: Iterable[str]) -> None:
    missing = required_capabilities(objects, plan) - provided_capabilities(plan, charts)
    assert not missing, (
        f"dist/ needs what neither the plan's add-ons nor the bootstrap charts provide: {missing}"
    )


def _addon(plan: dict, name: str) -> dict:
    (change,) = [rc["change"] for rc in plan["resource_changes"] if rc["address"] == f"{ADDONS}.{name}"]
    return change["after"]


def test_dist_needs_only_what_the_plan_and_the_bootstrap_charts_provide(plans):
    objects = dist_objects()
    required = required_capabilities(objects, plans["root"])
    # the edges this contract exists for are really read from dist/
    assert {
        "metrics.k8s.io resource metrics",
        "NetworkPolicy enforcement",
        "readiness-gate injection",
        "elbv2.k8s.aws/v1beta1 TargetGroupBinding",
        "karpenter.sh/v1 NodePool",
        "karpenter.k8s.aws/v1 EC2NodeClass",
    } <= required
    check_capabilities(objects, plans["root"], CHARTS)


def _without_addon(name: str) -> Callable[[dict], None]:
    def drop(plan: dict) -> None:
        plan["resource_changes"] = [
            rc for rc in plan["resource_changes"] if rc["address"] != f"{ADDONS}.{name}"
        ]

    return drop


SECRET_PROVIDER_CLASS = {
    "apiVersion": "secrets-store.csi.x-k8s.io/v1",
    "kind": "SecretProviderClass",
    "metadata": {"name": "api-keys", "namespace": "predictor"},
}


@pytest.mark.parametrize(
    ("break_plan", "chart", "extra"),
    [
        (None, "aws-load-balancer-controller", []),
        (None, "karpenter-crd", []),
        (None, "karpenter", []),
        (_without_addon("metrics_server"), None, []),
        (lambda p: _addon(p, "vpc_cni").update(configuration_values=None), None, []),
        (lambda p: _addon(p, "vpc_cni").update(resolve_conflicts_on_update="PRESERVE"), None, []),
        (_without_addon("cloudwatch_observability"), None, []),
        # dist/ gains a SecretProviderClass the moment the API keys are mounted; without the add-on it fails
        (_without_addon("secrets_store_csi"), None, [SECRET_PROVIDER_CLASS]),
    ],
    ids=[
        "no-lbc-chart",
        "no-karpenter-crds",
        "no-karpenter",
        "no-metrics-server",
        "cni-policy-off",
        "cni-not-enforced-on-update",
        "no-container-insights",
        "no-csi-driver",
    ],
)
def test_the_capability_check_fails_when_a_provider_is_gone(plans, break_plan, chart, extra):
    plan = copy.deepcopy(plans["root"])
    if break_plan is not None:
        break_plan(plan)
    objects = [*dist_objects(), *extra]
    check_capabilities(objects, plans["root"], CHARTS)  # the unbroken plan provides for the same objects
    with pytest.raises(AssertionError):
        check_capabilities(objects, plan, [name for name in CHARTS if name != chart])


# ---------------------------------------------------------------- the CloudWatch agent scrapes the app


def _app_metrics() -> dict[str, dict]:
    """Each metric family /metrics serves, with its type and label names, from the running app's own
    exposition after one request (so the per-route series exist)."""
    card = load_service_card()
    app = create_app(load_settings({}, card=card), lifecycle=Lifecycle(), card=card)
    with TestClient(app=app) as client:
        client.get(card.paths.predict)
        text = client.get(card.paths.metrics).text
    families = {
        name: {"type": kind, "labels": set()} for name, kind in re.findall(SAMPLE_TYPE, text, re.MULTILINE)
    }
    for name, labels in re.findall(r"^(\w+)\{([^}]*)\}", text, re.MULTILINE):
        family = name if name in families else re.sub(r"_(sum|count|bucket)$", "", name)
        families[family]["labels"] |= set(re.findall(r'(\w+)="', labels))
    return families


def _published(metrics: dict[str, dict]) -> dict[str, dict]:
    """The series the agent turns into CloudWatch metrics: counters and gauges as served, a summary's _sum
    and _count (its quantiles too, which the Python client never serves); histograms it drops."""
    series = {}
    for name, family in metrics.items():
        if family["type"] in {"counter", "gauge"}:
            series[name] = family
        elif family["type"] == "summary":
            series[f"{name}_sum"] = series[f"{name}_count"] = family
    return series


def check_scrape(plan: dict, objects: list[dict], metrics_path: str, metrics: dict[str, dict]) -> None:
    configuration = json.loads(_addon(plan, "cloudwatch_observability")["configuration_values"])
    (job,) = configuration["agent"]["prometheus"]["config"]["scrape_configs"]
    (discovery,) = job["kubernetes_sd_configs"]
    assert discovery["role"] == "pod"
    keep = {
        tuple(r["source_labels"]): r["regex"] for r in job["relabel_configs"] if r.get("action") == "keep"
    }
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    assert deployments, "dist/ runs no Deployment"
    for deployment in deployments:
        pods = deployment["spec"]["template"]
        (port,) = {p["containerPort"] for c in pods["spec"]["containers"] for p in c.get("ports", [])}
        assert job["metrics_path"] == metrics_path == pods["metadata"]["annotations"]["prometheus.io/path"]
        assert discovery["namespaces"]["names"] == [deployment["metadata"]["namespace"]], (
            "not dist's namespace"
        )
        # Every pod of the service, of either track: part-of, not the Deployment's own name.
        label = pods["metadata"]["labels"]["app.kubernetes.io/part-of"]
        assert keep[("__meta_kubernetes_pod_label_app_kubernetes_io_part_of",)] == label, "not dist's pods"
        assert keep[("__meta_kubernetes_pod_container_port_number",)] == str(port), "not the container's port"
    processor = configuration["agent"]["config"]["logs"]["metrics_collected"]["prometheus"]["emf_processor"]
    series = _published(metrics)
    declarations = processor["metric_declaration"]
    for declaration in declarations:
        assert re.fullmatch(declaration["label_matcher"], job["job_name"]), "the declaration matches no job"
        for selector in declaration["metric_selectors"]:
            selected = [name for name in series if re.fullmatch(selector, name)]
            assert selected, f"{selector} selects nothing the agent publishes"
            for name, dimensions in itertools.product(selected, declaration["dimensions"]):
                assert set(dimensions) <= AGENT_DIMENSIONS | series[name]["labels"], (
                    f"{name} lacks {dimensions}"
                )

    def dimension_sets(name: str) -> list[set[str]]:
        return [
            set(dimensions)
            for declaration in declarations
            if any(re.fullmatch(selector, name) for selector in declaration["metric_selectors"])
            for dimensions in declaration["dimensions"]
        ]

    by_route = {
        name: series[name]["type"] for name in series if any("route" in d for d in dimension_sets(name))
    }
    assert any(
        kind == "counter" and any({"route", "status"} <= d for d in dimension_sets(name))
        for name, kind in by_route.items()
    ), "no requests and errors by route"
    assert any(f"{name}_sum" in by_route and f"{name}_count" in by_route for name in metrics), (
        "no latency by route: no summary's sum and count published by route"
    )


@pytest.fixture(scope="module")
def metrics() -> dict[str, dict]:
    return _app_metrics()


def test_the_cloudwatch_agent_scrapes_the_app_where_dist_runs_it(plans, service_card, metrics):
    check_scrape(plans["root"], dist_objects(), service_card["paths"]["metrics"], metrics)


def _scrape_job(plan: dict, change: Callable[[dict], None]) -> None:
    addon = _addon(plan, "cloudwatch_observability")
    configuration = json.loads(addon["configuration_values"])
    change(configuration)
    addon["configuration_values"] = json.dumps(configuration)


def _job(configuration: dict) -> dict:
    return configuration["agent"]["prometheus"]["config"]["scrape_configs"][0]


def _declarations(configuration: dict) -> list[dict]:
    return configuration["agent"]["config"]["logs"]["metrics_collected"]["prometheus"]["emf_processor"][
        "metric_declaration"
    ]


def _declaration(configuration: dict, index: int) -> dict:
    return _declarations(configuration)[index]


@pytest.mark.parametrize(
    "break_it",
    [
        lambda c: _job(c).update(metrics_path="/other"),
        lambda c: _job(c)["kubernetes_sd_configs"][0]["namespaces"].update(names=["default"]),
        lambda c: _job(c)["relabel_configs"][0].update(regex="other"),
        lambda c: _job(c)["relabel_configs"][1].update(regex="9090"),
        lambda c: _declaration(c, 0).update(
            metric_selectors=["^predictor_http_request_duration_seconds_bucket$"]
        ),
        lambda c: _declaration(c, 0).update(dimensions=[["ClusterName", "Namespace"]]),
        lambda c: _declaration(c, 1).update(dimensions=[["ClusterName", "Namespace"]]),
        lambda c: _declaration(c, 1).update(dimensions=[["ClusterName", "Namespace", "route", "status"]]),
        lambda c: _declaration(c, 1).update(
            metric_selectors=["^predictor_http_request_duration_seconds_sum$"]
        ),
        lambda c: _declarations(c).pop(1),
    ],
    ids=[
        "other-path",
        "other-namespace",
        "other-pods",
        "other-port",
        "histogram",
        "requests-not-by-route",
        "latency-not-by-route",
        "latency-by-a-label-it-lacks",
        "latency-without-count",
        "no-latency",
    ],
)
def test_the_scrape_check_fails_on_a_broken_configuration(plans, service_card, metrics, break_it):
    plan = copy.deepcopy(plans["root"])
    _scrape_job(plan, break_it)
    with pytest.raises((AssertionError, KeyError)):
        check_scrape(plan, dist_objects(), service_card["paths"]["metrics"], metrics)


def test_the_scrape_check_fails_when_the_app_serves_latency_as_a_histogram(plans, service_card, metrics):
    served = copy.deepcopy(metrics)
    for family in served.values():
        if family["type"] == "summary":
            family["type"] = "histogram"
    assert served != metrics, "the app serves no summary"
    with pytest.raises(AssertionError):
        check_scrape(plans["root"], dist_objects(), service_card["paths"]["metrics"], served)
