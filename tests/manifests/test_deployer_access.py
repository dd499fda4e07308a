"""The deploy role's extra RBAC: exactly TargetGroupBindings, in the namespace, for the card's group,
and only in the cluster admin's folder (a deploy must not widen its own permissions)."""

from __future__ import annotations

import pytest
import yaml

from api.service_card import load_service_card
from manifests_py.deployer_access import DEPLOYER_VERBS
from manifests_py.renderings import RENDERINGS, Layer
from manifests_py.service_card import REPO_ROOT

CARD = load_service_card()
DIST = REPO_ROOT / "dist"


def _objects(folder: str) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted((DIST / folder).glob("*.yaml"))]


@pytest.mark.parametrize("folder", [r.folder for r in RENDERINGS if r.layer is Layer.CLUSTER])
def test_cluster_folder_grants_the_deployer_group_targetgroupbindings_only(folder):
    objects = {obj["kind"]: obj for obj in _objects(folder)}
    role, binding = objects["Role"], objects["RoleBinding"]
    assert role["metadata"]["namespace"] == CARD.namespace
    assert role["rules"] == [
        {"apiGroups": ["elbv2.k8s.aws"], "resources": ["targetgroupbindings"], "verbs": list(DEPLOYER_VERBS)}
    ]
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
