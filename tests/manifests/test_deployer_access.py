"""The deploy role's extra RBAC: exactly the custom resources its folder holds, in the namespace, for the
card's group, and only in the cluster admin's folder (a deploy must not widen its own permissions)."""

from __future__ import annotations

import pytest
import yaml

from api.service_card import load_service_card
from manifests_py.deployer_access import DEPLOYER_VERBS
from manifests_py.renderings import RENDERINGS, Layer
from manifests_py.service_card import REPO_ROOT
from manifests_py.validation import CRD_SCHEMA_DIR, CRD_SCHEMA_FILES

CARD = load_service_card()
DIST = REPO_ROOT / "dist"


def _objects(folder: str) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted((DIST / folder).glob("*.yaml"))]


def _custom_resources(folder: str) -> list[tuple[str, str]]:
    """(group, plural) of each custom resource in a folder, the plural read from its CRD."""
    found = []
    for obj in _objects(folder):
        crd_file = CRD_SCHEMA_FILES.get((obj["apiVersion"], obj["kind"]))
        if crd_file:
            crd = yaml.safe_load((CRD_SCHEMA_DIR / crd_file).read_text())
            found.append((crd["spec"]["group"], crd["spec"]["names"]["plural"]))
    return sorted(found)


@pytest.mark.parametrize(
    "rendering", [r for r in RENDERINGS if r.layer is Layer.CLUSTER], ids=lambda r: r.folder
)
def test_cluster_folder_grants_the_deployer_group_its_folders_custom_resources_only(rendering):
    objects = {obj["kind"]: obj for obj in _objects(rendering.folder)}
    role, binding = objects["Role"], objects["RoleBinding"]
    assert role["metadata"]["namespace"] == CARD.namespace
    (service_folder,) = [
        r.folder
        for r in RENDERINGS
        if r.layer is Layer.SERVICE
        and r.environment == rendering.environment
        and r.target == rendering.target
    ]
    granted = sorted(
        (group, plural)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for plural in rule["resources"]
    )
    assert granted == _custom_resources(service_folder)
    assert {"elbv2.k8s.aws", "secrets-store.csi.x-k8s.io"} <= {group for group, _ in granted}
    assert all(rule["verbs"] == list(DEPLOYER_VERBS) for rule in role["rules"])
    assert not {"escalate", "bind", "impersonate", "*"} & set(DEPLOYER_VERBS)
    assert binding["metadata"]["namespace"] == CARD.namespace
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": CARD.deployer_group}
    ]


@pytest.mark.parametrize("folder", [r.folder for r in RENDERINGS if r.layer is Layer.SERVICE])
def test_service_folders_carry_no_rbac(folder):
    kinds = {obj["kind"] for obj in _objects(folder)}
    assert not kinds & {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}
