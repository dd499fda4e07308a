"""The deploy role's RBAC: a Role in the namespace, for the card's group, only in the cluster admin's folder,
granting exactly what the deploy's kubectl commands need on the kinds its folder holds, and nothing an
attacker holding the deploy identity could use to become the app (Secrets, exec, impersonation, tokens)."""

from __future__ import annotations

import copy

import pytest
import yaml

from api.service_card import load_service_card
from manifests_py.renderings import RENDERINGS, Layer
from manifests_py.service_card import REPO_ROOT
from manifests_py.validation import CRD_SCHEMA_DIR, CRD_SCHEMA_FILES

CARD = load_service_card()
DIST = REPO_ROOT / "dist"

# Resource names of the built-in kinds (Kubernetes API reference); custom kinds' come from their CRDs.
BUILT_IN_PLURALS = {
    "ConfigMap": "configmaps",
    "Deployment": "deployments",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "NetworkPolicy": "networkpolicies",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "Service": "services",
    "ServiceAccount": "serviceaccounts",
}
# tools/deploy/cluster.py: `kubectl apply` (client-side, no prune) gets, creates and patches each object;
# `kubectl rollout status` gets, lists and watches the Deployment; `kubectl rollout undo` lists the
# Deployment's ReplicaSets and patches the Deployment; a canary release patches the canary's spec.replicas
# (no scale subresource).
APPLY = {"create", "get", "patch"}
ROLLOUT = {
    ("apps", "deployments"): {"get", "list", "watch", "patch"},
    ("apps", "replicasets"): {"get", "list"},
}
NEVER = {"secrets", "pods/exec", "pods/attach", "pods/portforward", "serviceaccounts/token", "*"}
NEVER_VERBS = {"impersonate", "escalate", "bind", "delete", "deletecollection", "*"}


def _objects(folder: str) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted((DIST / folder).glob("*.yaml"))]


def _resource(obj: dict) -> tuple[str, str]:
    crd_file = CRD_SCHEMA_FILES.get((obj["apiVersion"], obj["kind"]))
    if crd_file:
        crd = yaml.safe_load((CRD_SCHEMA_DIR / crd_file).read_text())
        return crd["spec"]["group"], crd["spec"]["names"]["plural"]
    assert obj["kind"] in BUILT_IN_PLURALS, f"{obj['kind']}: name its resource in BUILT_IN_PLURALS"
    return obj["apiVersion"].rpartition("/")[0], BUILT_IN_PLURALS[obj["kind"]]


def _needed(applied: list[dict]) -> dict[tuple[str, str], set[str]]:
    """Verbs by (apiGroup, resource) the deploy needs for these objects (cluster-scoped ones it skips)."""
    needed = {_resource(obj): set(APPLY) for obj in applied if obj["metadata"].get("namespace")}
    for resource, verbs in ROLLOUT.items():
        needed[resource] = needed.get(resource, set()) | verbs
    return needed


def _granted(role: dict) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def problems(role: dict, applied: list[dict]) -> list[str]:
    needed, granted = _needed(applied), _granted(role)
    found = [
        f"{r}: needs {sorted(v - granted.get(r, set()))}"
        for r, v in needed.items()
        if v - granted.get(r, set())
    ]
    found += [
        f"{r}: grants {sorted(v - needed.get(r, set()))} nothing needs"
        for r, v in granted.items()
        if v - needed.get(r, set())
    ]
    found += [f"{r}: never granted" for r in granted if r[1] in NEVER or r[0] == "*"]
    found += [
        f"{r}: verb {sorted(v & NEVER_VERBS)} never granted" for r, v in granted.items() if v & NEVER_VERBS
    ]
    return found


CLUSTER_FOLDERS = [r for r in RENDERINGS if r.layer is Layer.CLUSTER]


def _pair(rendering) -> tuple[dict, dict, list[dict]]:
    objects = {obj["kind"]: obj for obj in _objects(rendering.folder)}
    (service_folder,) = [
        r.folder
        for r in RENDERINGS
        if r.layer is Layer.SERVICE
        and r.environment == rendering.environment
        and r.target == rendering.target
    ]
    return objects["Role"], objects["RoleBinding"], _objects(service_folder)


@pytest.mark.parametrize("rendering", CLUSTER_FOLDERS, ids=lambda r: r.folder)
def test_the_role_grants_exactly_what_the_deploy_of_its_folder_needs(rendering):
    role, binding, applied = _pair(rendering)
    assert {"TargetGroupBinding", "SecretProviderClass", "Deployment"} <= {obj["kind"] for obj in applied}
    assert problems(role, applied) == []
    assert role["metadata"]["namespace"] == binding["metadata"]["namespace"] == CARD.namespace
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": CARD.deployer_group}
    ]


def _with_rule(role: dict, group: str, resource: str, verbs: list[str]) -> dict:
    broken = copy.deepcopy(role)
    broken["rules"].append({"apiGroups": [group], "resources": [resource], "verbs": verbs})
    return broken


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda role, applied: (
                role,
                [*applied, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "x"}}],
            ),
            "('', 'configmaps'): needs",
        ),
        (
            lambda role, applied: (_with_rule(role, "apps", "deployments", ["delete"]), applied),
            "grants ['delete'] nothing needs",
        ),
        (
            lambda role, applied: (_with_rule(role, "", "secrets", ["get"]), applied),
            "('', 'secrets'): never granted",
        ),
        (
            lambda role, applied: (_with_rule(role, "", "pods/exec", ["create"]), applied),
            "('', 'pods/exec'): never granted",
        ),
        (
            lambda role, applied: (_with_rule(role, "", "serviceaccounts/token", ["create"]), applied),
            "serviceaccounts/token'): never",
        ),
        (
            lambda role, applied: (_with_rule(role, "", "users", ["impersonate"]), applied),
            "verb ['impersonate'] never",
        ),
        (
            lambda role, applied: ({**role, "rules": role["rules"][1:]}, applied),
            "needs ['create', 'get', 'patch']",
        ),
    ],
    ids=["new-kind", "extra-verb", "secrets", "exec", "token", "impersonate", "missing-kind"],
)
def test_a_broken_copy_is_named(mutate, expected):
    role, _binding, applied = _pair(CLUSTER_FOLDERS[-1])
    found = problems(*mutate(role, applied))
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize("folder", [r.folder for r in RENDERINGS if r.layer is Layer.SERVICE])
def test_service_folders_carry_no_rbac(folder):
    kinds = {obj["kind"] for obj in _objects(folder)}
    assert not kinds & {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
