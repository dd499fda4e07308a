"""The construct's behaviour beyond the committed environments: the Ingress alternative, Knative's CPU
class, secrets and settings, and the report of what each target cannot carry. Golden files pin the output."""

from __future__ import annotations

import json
import os

import pytest

from manifests_py.config import load_environment, project_version
from manifests_py.knative_like import traffic_split
from manifests_py.output import write_folder
from manifests_py.props import Autoscaling, Resources, ServiceProps, Target
from manifests_py.renderings import RENDERINGS, Rendering, service_props
from manifests_py.synth import render
from manifests_py.validation import kubernetes_versions, validate_objects
from tests.manifests.conftest import FIXTURES, load_folder
from tests.support.sides import selects

GOLDEN = FIXTURES.parent / "golden"
UPDATE_GOLDEN = os.environ.get("MANIFESTS_UPDATE_GOLDEN") == "1"
CASES = {
    "edge-eks": Rendering(folder="edge-eks", environment="edge", target=Target.EKS),
    "edge-knative": Rendering(folder="edge-knative", environment="edge", target=Target.KNATIVE),
    "burst-eks": Rendering(folder="burst-eks", environment="burst", target=Target.EKS),
    "burst-knative": Rendering(folder="burst-knative", environment="burst", target=Target.KNATIVE),
}


@pytest.fixture(scope="module")
def fixtures(card):
    configs = {
        name: load_environment(name, directory=FIXTURES / "environments") for name in ("edge", "burst")
    }
    folders = render(list(CASES.values()), card=card, configs=configs)
    return {folder.rendering.folder: folder for folder in folders}


def by_kind(folder):
    """The first object of each kind: the stable track's where there is a canary too."""
    return {o["kind"]: o for o in reversed(folder.objects)}


@pytest.mark.parametrize("case", list(CASES))
def test_golden_files(fixtures, case, tmp_path):
    folder = fixtures[case]
    write_folder(tmp_path / case, folder.objects, header=folder.header)
    written = {p.name: p.read_text() for p in sorted((tmp_path / case).iterdir())}
    golden = GOLDEN / case
    if UPDATE_GOLDEN:
        golden.mkdir(parents=True, exist_ok=True)
        for stale in golden.iterdir():
            stale.unlink()
        for name, text in written.items():
            (golden / name).write_text(text)
    expected = {p.name: p.read_text() for p in sorted(golden.iterdir())} if golden.is_dir() else {}
    assert written == expected, (
        f"golden files differ; review, then MANIFESTS_UPDATE_GOLDEN=1 pytest {__file__}"
    )


@pytest.mark.parametrize("case", list(CASES))
def test_fixture_renderings_validate_strictly(fixtures, case):
    objects = fixtures[case].objects
    assert validate_objects(objects, versions=kubernetes_versions()) == []


def test_ingress_is_https_only(fixtures, card):
    objects = by_kind(fixtures["edge-eks"])
    assert "TargetGroupBinding" not in objects
    ingress = objects["Ingress"]
    annotations = ingress["metadata"]["annotations"]
    prefix = "alb.ingress.kubernetes.io/"
    assert json.loads(annotations[prefix + "listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations[prefix + "ssl-redirect"] == "443", "port 80 only redirects"
    assert (
        annotations[prefix + "certificate-arn"]
        == load_environment("edge", directory=FIXTURES / "environments").terraform_outputs.certificate_arn
    )
    assert annotations[prefix + "ssl-policy"].startswith("ELBSecurityPolicy-TLS13-")
    assert annotations[prefix + "target-type"] == "ip"
    assert annotations[prefix + "healthcheck-path"] == card.paths.readiness
    assert annotations[prefix + "healthcheck-interval-seconds"] == str(
        card.load_balancer.health_check.interval_seconds
    )
    assert annotations[prefix + "target-group-attributes"] == (
        f"deregistration_delay.timeout_seconds={card.load_balancer.deregistration_delay_seconds}"
    )
    assert (
        f"idle_timeout.timeout_seconds={card.load_balancer.idle_timeout_seconds}"
        in annotations[prefix + "load-balancer-attributes"]
    )
    assert (
        "routing.http.drop_invalid_header_fields.enabled=true"
        in annotations[prefix + "load-balancer-attributes"]
    )
    assert ingress["spec"]["ingressClassName"] == "alb"
    backend = ingress["spec"]["defaultBackend"]["service"]
    assert backend == {"name": objects["Service"]["metadata"]["name"], "port": {"number": card.port}}


def test_target_group_binding_binds_the_service_by_ip(rendered, card):
    objects = by_kind(rendered["prod"])
    binding = objects["TargetGroupBinding"]["spec"]
    assert binding == {
        "serviceRef": {"name": objects["Service"]["metadata"]["name"], "port": card.port},
        "targetGroupARN": load_environment("prod").terraform_outputs.target_group_arn,
        "targetType": "ip",
    }
    assert "Ingress" not in objects


def _named(folder, kind):
    return {o["metadata"]["name"]: o for o in folder.objects if o["kind"] == kind}


def _selects(selector: dict, deployment: dict) -> bool:
    return selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_the_canary_is_a_second_workload_behind_its_own_target_group(rendered):
    objects, outputs = rendered["prod"].objects, load_environment("prod").terraform_outputs
    deployments, services = _named(rendered["prod"], "Deployment"), _named(rendered["prod"], "Service")
    stable, canary = deployments["predictor"], deployments["predictor-canary"]
    assert "replicas" not in stable["spec"], "the HPA scales the stable track"
    assert canary["spec"]["replicas"] == 0, "at rest the canary runs nothing"
    tracks = {name: d["spec"]["template"]["metadata"]["labels"]["track"] for name, d in deployments.items()}
    assert tracks == {"predictor": "stable", "predictor-canary": "canary"}
    assert not _selects(stable["spec"]["selector"]["matchLabels"], canary), "stable would count the canary"
    assert not _selects(canary["spec"]["selector"]["matchLabels"], stable)
    # The same pod but for its labels: the canary differs from stable only by the image a release sets.
    assert canary["spec"]["template"]["spec"] == {
        **stable["spec"]["template"]["spec"],
        "topologySpreadConstraints": canary["spec"]["template"]["spec"]["topologySpreadConstraints"],
    }
    bindings = {o["spec"]["targetGroupARN"]: o["spec"] for o in objects if o["kind"] == "TargetGroupBinding"}
    for arn, deployment in ((outputs.target_group_arn, stable), (outputs.canary_target_group_arn, canary)):
        service = services[bindings[arn]["serviceRef"]["name"]]
        assert [d for d in deployments.values() if _selects(service["spec"]["selector"], d)] == [deployment]
    (autoscaler,) = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "predictor"


def test_without_a_target_group_binding_no_canary_is_rendered_and_that_is_reported(fixtures):
    for case in ("edge-eks", "burst-eks"):
        assert [o["metadata"]["name"] for o in fixtures[case].objects if o["kind"] == "Deployment"] == [
            "predictor"
        ]
        assert any(w.setting.startswith("traffic.steps=") for w in fixtures[case].warnings), case


def test_knative_splits_traffic_between_the_stable_revision_and_the_latest(rendered, fixtures):
    (service,) = [o for o in rendered["knative"].objects if o["kind"] == "Service"]
    revision = service["spec"]["template"]["metadata"]["name"]
    assert revision.startswith("predictor-" + load_environment("dev").image.tag.replace(".", "-") + "-")
    assert service["spec"]["traffic"] == [
        {"tag": "stable", "revisionName": revision, "percent": 100},
        {"tag": "canary", "latestRevision": True, "percent": 0},
    ]
    # Pinned by digest, the revision is named after the bytes: a re-pushed tag is a new revision.
    (edge,) = [o for o in fixtures["edge-knative"].objects if o["kind"] == "Service"]
    assert edge["spec"]["template"]["metadata"]["name"].startswith("predictor-0123456789ab-")
    assert traffic_split("predictor-old", 10) == [
        {"tag": "stable", "revisionName": "predictor-old", "percent": 90},
        {"tag": "canary", "latestRevision": True, "percent": 10},
    ]


def test_a_changed_setting_with_the_same_image_is_a_new_knative_revision(card, rendered):
    # Knative refuses a changed revision template under a name it already has.
    (knative,) = [r for r in RENDERINGS if r.folder == "knative"]
    config = load_environment(knative.environment, default_tag=project_version())
    scale = config.scale.model_copy(update={"max": config.scale.max + 1})
    changed = config.model_copy(update={"scale": scale})
    (again,) = render([knative], card=card, configs={knative.environment: changed})

    def revision(objects: list[dict]) -> str:
        (service,) = [o for o in objects if o["kind"] == "Service"]
        return service["spec"]["template"]["metadata"]["name"]

    before, after = revision(rendered["knative"].objects), revision(again.objects)
    assert before != after
    assert before.rsplit("-", 1)[0] == after.rsplit("-", 1)[0], "the image part of the name is kept"
    (same,) = render([knative], card=card, configs={knative.environment: config})
    assert revision(same.objects) == before, "the same template keeps its name"


def test_the_traffic_split_is_validated_against_the_vendored_knative_schema(rendered):
    objects = json.loads(json.dumps(rendered["knative"].objects))
    assert validate_objects(objects, versions=kubernetes_versions()) == []
    (service,) = [o for o in objects if o["kind"] == "Service"]
    service["spec"]["traffic"][1]["percent"] = "ten"
    service["spec"]["traffic"][0]["revision"] = service["spec"]["traffic"][0].pop("revisionName")
    problems = [str(p) for p in validate_objects(objects, versions=kubernetes_versions())]
    assert any("spec.traffic.1.percent" in p for p in problems), problems
    assert any("spec.traffic.0" in p and "'revision'" in p for p in problems), problems


def test_namespace_enforces_restricted_and_asks_for_readiness_gates(rendered, card):
    labels = by_kind(rendered["prod"])["Namespace"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["elbv2.k8s.aws/pod-readiness-gate-inject"] == "enabled"
    assert by_kind(rendered["prod"])["Namespace"]["metadata"]["name"] == card.namespace
    knative_labels = by_kind(rendered["knative"])["Namespace"]["metadata"]["labels"]
    assert knative_labels["pod-security.kubernetes.io/enforce"] == "restricted"


# The labels the service's pods had before releases had tracks.
PODS_BEFORE_TRACKS = {"app.kubernetes.io/name": "predictor", "app.kubernetes.io/managed-by": "cdk8s"}


def test_network_policy_admits_only_the_app_port(rendered, card):
    policy = by_kind(rendered["prod"])["NetworkPolicy"]["spec"]
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    ports = [port for rule in policy["ingress"] for port in rule["ports"]]
    assert ports
    assert all(port == {"port": card.port, "protocol": "TCP"} for port in ports)
    sources = [peer for rule in policy["ingress"] for peer in rule["from"]]
    assert all(peer.get("ipBlock", {}).get("cidr") not in {"0.0.0.0/0", "::/0"} for peer in sources)
    # Out: only DNS, only to the cluster's resolver.
    (egress,) = policy["egress"]
    assert egress["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert egress["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    for deployment in (o for o in rendered["prod"].objects if o["kind"] == "Deployment"):
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selects(policy["podSelector"], pod_labels), "a track is not covered"
    # Applied ahead of a release, it still covers the pods serving from a version before tracks existed.
    assert selects(policy["podSelector"], PODS_BEFORE_TRACKS)
    assert not selects(policy["podSelector"], {**PODS_BEFORE_TRACKS, "app.kubernetes.io/name": "other"})


def test_disruption_budget_and_spread_hold_at_any_scale(rendered):
    objects = by_kind(rendered["prod"])
    budget = objects["PodDisruptionBudget"]["spec"]
    assert budget["maxUnavailable"] == 1
    assert budget["selector"] == objects["NetworkPolicy"]["spec"]["podSelector"]
    spread = objects["Deployment"]["spec"]["template"]["spec"]["topologySpreadConstraints"]
    zone = next(c for c in spread if c["topologyKey"] == "topology.kubernetes.io/zone")
    assert (zone["maxSkew"], zone["whenUnsatisfiable"]) == (1, "DoNotSchedule")


def test_settings_reach_the_container(fixtures):
    container = by_kind(fixtures["edge-eks"])["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["PREDICTOR_MAX_BATCH_SIZE"]["value"] == "64"
    assert env["PREDICTOR_MAX_BODY_BYTES"]["value"] == "65536"
    assert env["PREDICTOR_LOG_REQUESTS"]["value"] == "false"
    assert env["PREDICTOR_METRICS_ENABLED"]["value"] == "false"
    assert env["PREDICTOR_MODEL_PATH"]["value"] == "/app/api/models/alternative.json"
    settings = pytest.importorskip("api.settings", reason="the service package is not importable")
    # The model and key files exist only in the image and the pod.
    inside = {"PREDICTOR_MODEL_PATH", "PREDICTOR_API_KEYS_FILE"}
    plain = {name: e["value"] for name, e in env.items() if "value" in e and name not in inside}
    loaded = settings.load_settings(plain)
    assert (loaded.max_batch_size, loaded.log_requests, loaded.metrics_enabled) == (64, False, False)


def test_metrics_off_means_no_scrape_annotations_and_a_digest_means_no_checkov_skip(fixtures, rendered):
    edge = by_kind(fixtures["edge-eks"])["Deployment"]
    assert "prometheus.io/scrape" not in edge["spec"]["template"]["metadata"].get("annotations", {})
    assert "checkov.io/skip1" not in edge["metadata"].get("annotations", {})
    assert edge["spec"]["template"]["spec"]["containers"][0]["image"].endswith(
        "@sha256:" + "0123456789abcdef" * 4
    )
    prod = by_kind(rendered["prod"])["Deployment"]
    assert prod["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert prod["metadata"]["annotations"]["checkov.io/skip1"].startswith("CKV_K8S_43=")


def test_knative_autoscaling_follows_the_metric(fixtures, rendered):
    concurrency = by_kind(rendered["knative"])["Service"]["spec"]["template"]
    annotations = concurrency["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
    assert annotations["autoscaling.knative.dev/metric"] == "concurrency"
    assert annotations["autoscaling.knative.dev/min-scale"] == "0"
    assert concurrency["spec"]["timeoutSeconds"] > 0
    assert concurrency["spec"]["containerConcurrency"] == 0

    cpu = by_kind(fixtures["burst-knative"])["Service"]["spec"]["template"]
    annotations = cpu["metadata"]["annotations"]
    assert annotations["autoscaling.knative.dev/class"] == "hpa.autoscaling.knative.dev"
    assert annotations["autoscaling.knative.dev/metric"] == "cpu"
    assert annotations["autoscaling.knative.dev/target"] == "80"
    assert annotations["autoscaling.knative.dev/min-scale"] == "1", "the HPA class cannot scale to zero"
    assert annotations["autoscaling.knative.dev/max-scale"] == "20"
    assert cpu["spec"]["containerConcurrency"] == 10


def warnings_of(folder):
    return [str(w) for w in folder.warnings]


def test_what_does_not_carry_is_reported(fixtures, rendered):
    assert warnings_of(rendered["prod"]) == [], "a plain EKS environment loses nothing"
    dev = warnings_of(rendered["dev"])
    assert any(w.startswith("min_scale=0 does not carry to eks") for w in dev)
    assert any(w.startswith("concurrency_target=20 does not carry to eks") for w in dev)
    burst_eks = warnings_of(fixtures["burst-eks"])
    assert any(w.startswith("container_concurrency=10 does not carry to eks") for w in burst_eks)
    assert by_kind(fixtures["burst-eks"])["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 1
    burst_knative = warnings_of(fixtures["burst-knative"])
    assert any(w.startswith("min_scale=0 does not carry to knative") for w in burst_knative)
    edge_knative = warnings_of(fixtures["edge-knative"])
    assert any(w.startswith("exposure=Ingress does not carry to knative") for w in edge_knative)
    knative = warnings_of(rendered["knative"])
    for setting in ("exposure=TargetGroupBinding", "zone spread", "preStop sleep", "NetworkPolicy"):
        assert any(w.startswith(setting) for w in knative), setting


def test_knative_renders_no_eks_only_objects(rendered):
    assert sorted(by_kind(rendered["knative"])) == ["Namespace", "Service", "ServiceAccount"]


def test_props_refuse_unsafe_values(card, rendered):
    props = service_props(card, load_environment("prod"), target=Target.EKS)
    assert isinstance(props, ServiceProps)
    with pytest.raises(ValueError, match="min"):
        Autoscaling(min=4, max=2, cpu_target_percent=50)
    with pytest.raises(ValueError, match="cpu_request"):
        Resources(cpu_request="2", cpu_limit="1", memory_request="256Mi", memory_limit="256Mi")
    assert rendered["prod"].objects  # the real props are accepted


def test_written_yaml_round_trips_in_apply_order(fixtures, tmp_path):
    folder = fixtures["edge-eks"]
    write_folder(tmp_path / "out", folder.objects, header=folder.header)
    loaded = load_folder(tmp_path / "out")

    def identity(document):
        return (document["kind"], document["metadata"]["name"])

    assert sorted(loaded, key=identity) == sorted(folder.objects, key=identity)
    kinds = [o["kind"] for o in loaded]
    assert kinds[0] == "Namespace", "kubectl apply -f creates the namespace before anything in it"
    assert kinds.index("ServiceAccount") < kinds.index("Deployment") < kinds.index("Ingress")
