"""All the CI deploy role may do in Kubernetes: a Role in the service's namespace, bound to the card's
``deployer_group`` (its EKS access entry's group; it has no EKS access policy). The rules are derived from
the objects the deploy applies: no Secrets, ``pods/exec``, impersonation or service-account tokens. It is
in the cluster admin's folder (``dist/<env>-cluster/``): a deploy must not widen its own permissions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cdk8s_plus_28 import k8s
from constructs import Construct

from manifests_py.service_card import ServiceCard

__all__ = ["add_deployer_access", "deployer_rules"]

# What the kubectl commands of tools/deploy/cluster.py need: client-side `apply` (no prune) reads,
# creates and patches each object; `rollout status` watches the Deployment; `rollout undo` lists its
# ReplicaSets and patches it back. A canary release scales the canary by patching spec.replicas.
APPLY_VERBS = ("create", "get", "patch")
ROLLOUT_VERBS = {("apps", "deployments"): ("list", "watch"), ("apps", "replicasets"): ("get", "list")}


def _resource(api_version: str, kind: str) -> tuple[str, str]:
    """(apiGroup, plural) of a kind, pluralized as the API server's default (UnsafeGuessKindToResource)."""
    kind = kind.lower()
    plural = f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}es" if kind.endswith("s") else f"{kind}s"
    return api_version.rpartition("/")[0], plural


def deployer_rules(applied: Iterable[dict[str, Any]]) -> dict[tuple[str, str], tuple[str, ...]]:
    """Verbs by (apiGroup, plural): the namespaced objects the deploy applies, plus what rollouts need."""
    rules = {
        _resource(o["apiVersion"], o["kind"]): APPLY_VERBS for o in applied if o["metadata"].get("namespace")
    }
    if ("apps", "deployments") in rules:
        for resource, verbs in ROLLOUT_VERBS.items():
            rules[resource] = tuple(sorted({*rules.get(resource, ()), *verbs}))
    return dict(sorted(rules.items()))


def add_deployer_access(
    chart: Construct, *, card: ServiceCard, labels: dict[str, str], applied: Iterable[dict[str, Any]]
) -> None:
    name, group = f"{card.name}-deployer", "rbac.authorization.k8s.io"
    metadata = k8s.ObjectMeta(name=name, namespace=card.namespace, labels=labels)
    rules = [
        k8s.PolicyRule(api_groups=[g], resources=[r], verbs=list(v))
        for (g, r), v in deployer_rules(applied).items()
    ]
    k8s.KubeRole(chart, "deployer-role", metadata=metadata, rules=rules)
    subject = k8s.Subject(kind="Group", name=card.deployer_group, api_group=group)
    role_ref = k8s.RoleRef(api_group=group, kind="Role", name=name)
    k8s.KubeRoleBinding(chart, "deployer-binding", metadata=metadata, role_ref=role_ref, subjects=[subject])
