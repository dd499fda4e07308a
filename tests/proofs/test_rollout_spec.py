"""The rollout parameters are read from the synthesized manifests and resolved as Kubernetes does."""

from __future__ import annotations

import copy

import pytest
import yaml

from manifests_py.knative_like import CANARY, TRACK_LABEL
from tools.load.rehearsal import DEFAULT_MANIFESTS
from tools.load.rollout_spec import RolloutSpecError, load_rollout_spec, resolve_int_or_percent

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "svc"},
    "spec": {
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "template": {
            "spec": {
                "terminationGracePeriodSeconds": 35,
                "containers": [
                    {
                        "name": "svc",
                        "env": [{"name": "PREDICTOR_DRAIN_SECONDS", "value": "10"}],
                        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "20"]}}},
                        "startupProbe": {"failureThreshold": 30, "periodSeconds": 1},
                    }
                ],
            }
        },
    },
}
AUTOSCALER = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "svc"},
    "spec": {"minReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "svc"}},
}


def _write(folder, *documents):
    folder.mkdir(exist_ok=True)
    (folder / "manifests.yaml").write_text(yaml.safe_dump_all(documents), encoding="utf-8")
    return folder


def _deployment(**changes):
    deployment = copy.deepcopy(DEPLOYMENT)
    for dotted, value in changes.items():
        node = deployment
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return deployment


@pytest.mark.parametrize(
    ("value", "total", "round_up", "expected"),
    [
        ("25%", 3, True, 1),  # 0.75 surges up to 1
        ("25%", 3, False, 0),  # 0.75 unavailable rounds down to 0
        ("25%", 4, False, 1),
        ("50%", 3, True, 2),
        ("0%", 10, True, 0),
        ("100%", 3, False, 3),
        (2, 3, True, 2),
        (0, 3, False, 0),
    ],
)
def test_int_or_percent_rounds_like_the_deployment_controller(value, total, round_up, expected):
    assert resolve_int_or_percent(value, total, round_up=round_up, field="f") == expected


@pytest.mark.parametrize("value", ["25", "x%", "-1%", -1, True, "2.5%"])
def test_malformed_int_or_percent_is_a_named_error(value):
    with pytest.raises(RolloutSpecError, match="maxSurge"):
        resolve_int_or_percent(value, 3, round_up=True, field="maxSurge")


def test_the_canary_beside_the_stable_deployment_is_not_what_is_rehearsed(tmp_path):
    canary = _deployment(
        metadata__name="svc-canary", spec__replicas=0, spec__template__metadata__labels={TRACK_LABEL: CANARY}
    )
    spec = load_rollout_spec(_write(tmp_path / "m", canary, _deployment(), AUTOSCALER))
    assert (spec.replicas, spec.replicas_from) == (3, "HorizontalPodAutoscaler spec.minReplicas")


def test_committed_prod_manifests_describe_a_rehearsable_rollout():
    spec = load_rollout_spec(DEFAULT_MANIFESTS)
    assert spec.source.endswith(".yaml")
    assert spec.replicas >= 2, "the rehearsal needs at least two replicas behind the proxy"
    assert spec.max_unavailable == 0, "zero downtime needs maxUnavailable 0"
    assert spec.max_surge >= 1
    assert spec.pre_stop_seconds > 0
    assert spec.termination_grace_seconds > spec.pre_stop_seconds


def test_replicas_come_from_the_autoscaler_floor_when_the_deployment_leaves_them_out(tmp_path):
    spec = load_rollout_spec(_write(tmp_path / "m", _deployment(), AUTOSCALER))
    assert (spec.replicas, spec.replicas_from) == (3, "HorizontalPodAutoscaler spec.minReplicas")
    assert (spec.max_surge, spec.max_unavailable) == (1, 0)
    assert (spec.pre_stop_seconds, spec.termination_grace_seconds) == (20.0, 35.0)
    assert spec.startup_budget_seconds == 30.0
    assert spec.container_env == {"PREDICTOR_DRAIN_SECONDS": "10"}


def test_explicit_replicas_win_and_percentages_resolve_against_them(tmp_path):
    deployment = _deployment(
        spec__replicas=8,
        spec__strategy__rollingUpdate={"maxSurge": "30%", "maxUnavailable": "30%"},
    )
    spec = load_rollout_spec(_write(tmp_path / "m", deployment, AUTOSCALER))
    assert (spec.replicas, spec.replicas_from) == (8, "Deployment spec.replicas")
    assert (spec.max_surge, spec.max_unavailable) == (3, 2)  # 2.4 up, 2.4 down


def test_when_both_fenceposts_resolve_to_zero_one_pod_may_be_unavailable(tmp_path):
    deployment = _deployment(spec__strategy__rollingUpdate={"maxSurge": "10%", "maxUnavailable": "10%"})
    deployment["spec"]["replicas"] = 0
    spec = load_rollout_spec(_write(tmp_path / "m", deployment))
    assert (spec.max_surge, spec.max_unavailable) == (0, 1)


@pytest.mark.parametrize(
    ("pre_stop", "seconds"),
    [
        ({"exec": {"command": ["sleep", "20"]}}, 20.0),
        ({"exec": {"command": ["/bin/sleep", "7"]}}, 7.0),
        ({"exec": {"command": ["/bin/sh", "-c", "sleep 12"]}}, 12.0),
        ({"sleep": {"seconds": 15}}, 15.0),
        (None, 0.0),
    ],
)
def test_pre_stop_sleep_in_each_form(tmp_path, pre_stop, seconds):
    deployment = _deployment(
        spec__template__spec__containers__0__lifecycle={"preStop": pre_stop} if pre_stop else None
    )
    assert load_rollout_spec(_write(tmp_path / "m", deployment)).pre_stop_seconds == seconds


@pytest.mark.parametrize(
    ("documents", "words"),
    [
        ([], "expected exactly one Deployment, found 0"),
        ([DEPLOYMENT, DEPLOYMENT], "expected exactly one Deployment, found 2"),
        (
            [
                _deployment(
                    spec__template__spec__containers__0__lifecycle={
                        "preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}
                    }
                )
            ],
            "only a sleep can be rehearsed",
        ),
        (
            [
                _deployment(
                    spec__template__spec__containers__0__env=[
                        {"name": "X", "valueFrom": {"secretKeyRef": {}}}
                    ]
                )
            ],
            "env X: only literal values",
        ),
        ([_deployment(spec__strategy={"type": "Recreate"})], "not a rolling update"),
        (
            [_deployment(spec__strategy__rollingUpdate={"maxSurge": "lots"})],
            "maxSurge: expected an integer or a percentage",
        ),
    ],
    ids=["none", "two", "pre-stop-not-sleep", "env-value-from", "recreate", "bad-surge"],
)
def test_manifests_the_rehearsal_cannot_follow_are_named_errors(tmp_path, documents, words):
    with pytest.raises(RolloutSpecError, match=words):
        load_rollout_spec(_write(tmp_path / "m", *documents))


def test_a_missing_folder_or_invalid_yaml_is_a_named_error(tmp_path):
    with pytest.raises(RolloutSpecError, match="no such manifest folder"):
        load_rollout_spec(tmp_path / "absent")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.yaml").write_text("a: [unclosed\n", encoding="utf-8")
    with pytest.raises(RolloutSpecError, match="not valid YAML"):
        load_rollout_spec(tmp_path / "bad")
