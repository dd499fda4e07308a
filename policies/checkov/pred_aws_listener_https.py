"""CKV_PRED_AWS_3: a load balancer listener is HTTPS with a TLS 1.3 policy, or HTTP that only redirects.

checkov's built-ins check that a listener uses HTTPS or redirects (CKV_AWS_2, CKV_AWS_103 accepts any
TLS 1.2 policy). The architecture asks for more: an HTTPS (or TLS) listener's ssl_policy is one of the
ELBSecurityPolicy-TLS13-* family, and a plain-HTTP listener has exactly one default action, a redirect
to HTTPS. TCP/UDP listeners (network load balancers) are not this rule's concern.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from pred_common import as_list, first, is_unresolved

TLS13_PREFIX = "ELBSecurityPolicy-TLS13-"


class ListenerIsHttpsOnly(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Listener is HTTPS with a TLS 1.3 policy, or HTTP that only redirects to HTTPS",
            id="CKV_PRED_AWS_3",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_lb_listener", "aws_alb_listener"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        protocol = first(conf.get("protocol"))
        if protocol is None:  # the provider's default for an ALB listener
            protocol = "HTTP"
        if is_unresolved(protocol):
            return CheckResult.UNKNOWN
        protocol = str(protocol).upper()
        if protocol in {"HTTPS", "TLS"}:
            policy = first(conf.get("ssl_policy"))
            if is_unresolved(policy):
                return CheckResult.UNKNOWN
            return CheckResult.PASSED if str(policy or "").startswith(TLS13_PREFIX) else CheckResult.FAILED
        if protocol != "HTTP":
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if _only_redirects_to_https(conf) else CheckResult.FAILED


def _only_redirects_to_https(conf: dict[str, Any]) -> bool:
    actions = [first(action) for action in as_list(conf.get("default_action"))]
    if len(actions) != 1 or not isinstance(actions[0], dict):
        return False
    action = actions[0]
    redirects = [first(r) for r in as_list(action.get("redirect")) if isinstance(first(r), dict)]
    if first(action.get("type")) != "redirect" or len(redirects) != 1:
        return False
    return str(first(redirects[0].get("protocol"))).upper() == "HTTPS"


check = ListenerIsHttpsOnly()
