"""CKV_PRED_K8S_8: a Role grants no way to become another identity or read its secrets.

The deploy identity applies the service's objects; access to Secrets, `pods/exec` or `pods/attach`,
`serviceaccounts/token`, the `impersonate`, `escalate` or `bind` verbs, or a wildcard resource or verb
would let it run as the app or read what the app reads. checkov's built-ins judge only ClusterRoles bound
to service accounts.
"""

from __future__ import annotations

from typing import Any

from pred_common import K8sCheck, fields

TAKE_OVER_RESOURCES = frozenset(["*", "secrets", "pods/exec", "pods/attach", "serviceaccounts/token"])
TAKE_OVER_VERBS = frozenset(["*", "impersonate", "escalate", "bind"])


class RolesCannotTakeOver(K8sCheck):
    def judge(self, conf: dict[str, Any]) -> bool | None:
        rules = [fields(rule) for rule in fields(conf).get("rules") or []]
        return not any(
            TAKE_OVER_RESOURCES & set(rule.get("resources") or [])
            or TAKE_OVER_VERBS & set(rule.get("verbs") or [])
            for rule in rules
        )


check = RolesCannotTakeOver(
    "CKV_PRED_K8S_8",
    "Roles grant no Secrets, exec, tokens, impersonation or wildcards",
    ["Role", "ClusterRole"],
)
