"""What the CI deploy role may do in the service's namespace beyond EKS's namespaced edit policy.

The deploy role's EKS access entry maps it to the service card's ``deployer_group`` and associates
``AmazonEKSEditPolicy`` scoped to the namespace (infra/modules/github_oidc). Kubernetes' ``edit`` role
covers no custom resource, so this Role grants exactly the ones the deploy applies (the TargetGroupBinding
and the SecretProviderClass), and the RoleBinding gives it to the group. Both belong to the cluster
admin's folder (``dist/<env>-cluster/``): a deploy must not be able to widen its own permissions.
"""

from __future__ import annotations

from cdk8s_plus_28 import k8s
from constructs import Construct

from manifests_py._eks import SECRETS_STORE_API_VERSION, TARGET_GROUP_BINDING_API_VERSION

__all__ = ["CUSTOM_RESOURCES", "DEPLOYER_VERBS", "DeployerAccess"]

# What `kubectl apply` (create, read back, patch) and a rollback need; no deletecollection, no escalation.
DEPLOYER_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete")
# (apiVersion, plural) of each custom resource in the service's folder.
CUSTOM_RESOURCES = (
    (TARGET_GROUP_BINDING_API_VERSION, "targetgroupbindings"),
    (SECRETS_STORE_API_VERSION, "secretproviderclasses"),
)


class DeployerAccess(Construct):
    def __init__(  # noqa: PLR0913 - keyword-only facts from the service card
        self,
        scope: Construct,
        id: str,  # noqa: A002 - the constructs library's parameter name
        *,
        name: str,
        namespace: str,
        group: str,
        labels: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        role_name = f"{name}-deployer"
        k8s.KubeRole(
            self,
            "role",
            metadata=k8s.ObjectMeta(name=role_name, namespace=namespace, labels=labels),
            rules=[
                k8s.PolicyRule(api_groups=[api.split("/")[0]], resources=[plural], verbs=list(DEPLOYER_VERBS))
                for api, plural in CUSTOM_RESOURCES
            ],
        )
        k8s.KubeRoleBinding(
            self,
            "binding",
            metadata=k8s.ObjectMeta(name=role_name, namespace=namespace, labels=labels),
            role_ref=k8s.RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=role_name),
            subjects=[k8s.Subject(kind="Group", name=group, api_group="rbac.authorization.k8s.io")],
        )
