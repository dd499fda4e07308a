"""The HPA: bounds and CPU target from the config (a measurement only suggests the target), and scaling
behaviour that adds pods at once and removes them slowly, replayed with the controller's own rate rules.
The PodDisruptionBudget and the zone spread must hold at every scale the HPA can reach."""

from __future__ import annotations

import math

import pytest

from manifests_py.config import ConfigError, load_environment
from manifests_py.renderings import RENDERINGS, Layer
from manifests_py.synth import render
from tests.manifests.conftest import DIST, load_folder
from tests.support.sides import selects

SYNC_SECONDS = 15  # kube-controller-manager's --horizontal-pod-autoscaler-sync-period
EKS_FOLDERS = ["dev", "prod"]


def of_kind(folder, kind, name="predictor"):
    (found,) = [o for o in load_folder(DIST / folder) if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def hpa(folder):
    return of_kind(folder, "HorizontalPodAutoscaler")["spec"]


@pytest.mark.parametrize("folder", EKS_FOLDERS)
def test_bounds_come_from_the_config(folder):
    scale = load_environment(folder).scale
    spec = hpa(folder)
    assert spec["minReplicas"] == max(scale.min, 1), (
        "plain EKS keeps one pod where Knative would scale to zero"
    )
    assert spec["maxReplicas"] == scale.max
    assert spec["scaleTargetRef"]["name"] == of_kind(folder, "Deployment")["metadata"]["name"]


@pytest.mark.parametrize("folder", EKS_FOLDERS)
def test_cpu_target_is_the_configured_value(folder):
    (metric,) = hpa(folder)["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {
        "type": "Utilization",
        "averageUtilization": load_environment(folder).scale.cpu_target_percent,
    }


def test_the_target_follows_the_config(card, environments_copy):
    """Change the configured target, and the synthesized HPA target changes with it (nothing else does)."""
    path = environments_copy / "prod.toml"
    configured = load_environment("prod").scale.cpu_target_percent
    path.write_text(path.read_text().replace(f"cpu_target_percent = {configured}", "cpu_target_percent = 41"))
    config = load_environment("prod", directory=environments_copy)
    (folder,) = render([r for r in RENDERINGS if r.folder == "prod"], card=card, configs={"prod": config})
    (autoscaler,) = [o for o in folder.objects if o["kind"] == "HorizontalPodAutoscaler"]
    assert autoscaler["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 41


def test_the_cpu_target_is_required(environments_copy):
    path = environments_copy / "prod.toml"
    path.write_text(
        "\n".join(line for line in path.read_text().splitlines() if "cpu_target_percent" not in line)
    )
    with pytest.raises(ConfigError, match=r"prod\.toml: scale\.cpu_target_percent: missing"):
        load_environment("prod", directory=environments_copy)


def test_knative_on_cpu_uses_the_configured_target(card):
    target = load_environment("dev").scale.cpu_target_percent
    warnings = [str(w) for w in _rendered(card, "dev").warnings]
    assert any(f"it scales on CPU at {target}% of the request" in w for w in warnings)


def _rendered(card, folder):
    rendering = next(r for r in RENDERINGS if r.folder == folder and r.layer is Layer.SERVICE)
    config = load_environment(rendering.environment)
    return render([rendering], card=card, configs={rendering.environment: config})[0]


# ---- the HPA controller's rate limits (pkg/controller/podautoscaler: calculateScaleUpLimitWithBehaviors
# and calculateScaleDownLimitWithBehaviors), replayed sync by sync


def _limit(rules, current, events, now, *, up):
    proposals = []
    for policy in rules["policies"]:
        period = policy["periodSeconds"]
        added = sum(change for at, change in events if change > 0 and now - at < period)
        removed = sum(-change for at, change in events if change < 0 and now - at < period)
        start = current - added + removed
        value = policy["value"]
        if policy["type"] == "Pods":
            proposals.append(start + value if up else start - value)
        elif up:
            proposals.append(math.ceil(start * (1 + value / 100)))
        else:
            proposals.append(int(start * (1 - value / 100)))
    assert rules["selectPolicy"] == "Max"
    return max(proposals) if up else min(proposals)


def replay(spec, *, start, wanted, seconds):
    """Replicas after each sync while the metrics ask for ``wanted`` pods from t=0 (before: ``start``)."""
    behavior = spec["behavior"]
    lo, hi = spec["minReplicas"], spec["maxReplicas"]
    current, events, history = start, [], []
    # Until t=0 the metrics asked for ``start``: its last recommendation came one sync earlier.
    recommendations = [(-SYNC_SECONDS, start)]
    for now in range(0, seconds + 1, SYNC_SECONDS):
        recommendations.append((now, wanted))
        if wanted < current:
            window = behavior["scaleDown"]["stabilizationWindowSeconds"]
            desired = max(r for at, r in recommendations if now - at <= window)
            desired = max(desired, _limit(behavior["scaleDown"], current, events, now, up=False))
        else:
            window = behavior["scaleUp"]["stabilizationWindowSeconds"]
            desired = min(r for at, r in recommendations if now - at <= window)
            desired = min(desired, _limit(behavior["scaleUp"], current, events, now, up=True))
        desired = min(max(desired, lo), hi)
        if desired != current:
            events.append((now, desired - current))
            current = desired
        history.append((now, current))
    return history


@pytest.mark.parametrize("folder", EKS_FOLDERS)
def test_scale_up_reacts_at_once_and_doubles(folder):
    spec = hpa(folder)
    up = spec["behavior"]["scaleUp"]
    assert up["stabilizationWindowSeconds"] == 0
    assert up["selectPolicy"] == "Max"
    assert {"type": "Percent", "value": 100, "periodSeconds": SYNC_SECONDS} in up["policies"]
    assert {"type": "Pods", "value": 4, "periodSeconds": SYNC_SECONDS} in up["policies"]
    history = replay(spec, start=spec["minReplicas"], wanted=spec["maxReplicas"], seconds=120)
    assert history[0][1] > spec["minReplicas"], "the first sync already adds pods"
    reached = next(at for at, replicas in history if replicas == spec["maxReplicas"])
    assert reached <= 60, f"{folder}: min to max in {reached} s"
    steps = [b - a for (_, a), (_, b) in zip([(0, spec["minReplicas"]), *history], history, strict=False)]
    previous = spec["minReplicas"]
    for (_, replicas), step in zip(history, steps, strict=True):
        assert step <= max(previous, 4), "never more than doubling or +4 pods a sync"
        previous = replicas


@pytest.mark.parametrize("folder", EKS_FOLDERS)
def test_scale_down_waits_five_minutes_then_sheds_at_most_a_tenth_a_minute(folder):
    spec = hpa(folder)
    down = spec["behavior"]["scaleDown"]
    assert down["stabilizationWindowSeconds"] == 300
    for policy in down["policies"]:
        assert policy["type"] == "Percent"
        assert policy["value"] <= 20
        assert policy["periodSeconds"] == 60
    history = replay(spec, start=spec["maxReplicas"], wanted=spec["minReplicas"], seconds=3600)
    assert all(replicas == spec["maxReplicas"] for at, replicas in history if at < 300)
    reached = next((at for at, replicas in history if replicas == spec["minReplicas"]), None)
    assert reached is not None, f"{folder}: never got back to minReplicas"
    counts = dict(history)
    for at, replicas in history:
        if at >= 60:
            before = counts[at - 60]
            removed = before - replicas
            assert removed <= max(1, math.ceil(before * 0.1)), (at, before, replicas)
            if before >= 5:
                assert removed <= before * 0.2


@pytest.mark.parametrize("folder", EKS_FOLDERS)
def test_the_disruption_budget_never_blocks_a_drain_and_never_empties_the_service(folder):
    spec = hpa(folder)
    budget = of_kind(folder, "PodDisruptionBudget")["spec"]
    assert "minAvailable" not in budget, "minAvailable = replicas would block every drain"
    # One budget over both tracks: it selects the stable pods and the canary's, so a drain during a
    # release still takes one pod at a time; the canary at 0 replicas adds nothing it could block on.
    for name in ("predictor", "predictor-canary"):
        labels = of_kind(folder, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert selects(budget["selector"], labels), f"{name}'s pods are not covered"
    assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    for replicas in range(spec["minReplicas"], spec["maxReplicas"] + 1):
        unavailable = budget["maxUnavailable"]
        allowed = replicas - max(replicas - unavailable, 0)  # the disruption controller's disruptionsAllowed
        assert allowed >= 1, f"{folder}: a drain at {replicas} replicas would be blocked"
        if replicas >= 2:
            assert replicas - allowed >= 1, f"{folder}: a drain could take every pod at {replicas} replicas"


@pytest.mark.parametrize("folder", EKS_FOLDERS)
def test_zone_spread_holds_at_every_scale(folder):
    spec = hpa(folder)
    pod_spec = of_kind(folder, "Deployment")["spec"]["template"]
    constraints = {c["topologyKey"]: c for c in pod_spec["spec"]["topologySpreadConstraints"]}
    zone = constraints["topology.kubernetes.io/zone"]
    host = constraints["kubernetes.io/hostname"]
    assert (zone["maxSkew"], zone["whenUnsatisfiable"]) == (1, "DoNotSchedule")
    assert (host["maxSkew"], host["whenUnsatisfiable"]) == (1, "ScheduleAnyway"), "hosts: best effort"
    for constraint in (zone, host):
        assert constraint["labelSelector"]["matchLabels"].items() <= pod_spec["metadata"]["labels"].items()
        assert constraint["matchLabelKeys"] == ["pod-template-hash"]
    zones = load_environment(folder).node_pool.zones
    pool = next(o for o in load_folder(DIST / f"{folder}-cluster") if o["kind"] == "NodePool")
    requirements = {r["key"]: r for r in pool["spec"]["template"]["spec"]["requirements"]}
    assert requirements[zone["topologyKey"]]["values"] == list(zones), "Karpenter can add nodes in every zone"
    for replicas in range(spec["minReplicas"], spec["maxReplicas"] + 1):
        per_zone = [
            replicas // len(zones) + (1 if i < replicas % len(zones) else 0) for i in range(len(zones))
        ]
        assert max(per_zone) - min(per_zone) <= zone["maxSkew"]
        # Losing the fullest zone leaves the rest serving once the HPA is at least at one pod per zone.
        if replicas >= len(zones):
            assert replicas - max(per_zone) >= 1
