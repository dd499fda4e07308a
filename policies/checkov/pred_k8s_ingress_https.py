"""CKV_PRED_K8S_1: an ALB Ingress listens on HTTPS only (plain HTTP only redirects) with a TLS 1.3 policy.

The AWS Load Balancer Controller builds the listeners from annotations: without listen-ports it opens
HTTP:80 only, and without ssl-redirect a port-80 listener forwards. So an Ingress of class alb must
list HTTPS in alb.ingress.kubernetes.io/listen-ports, may list HTTP only together with an ssl-redirect
to one of its HTTPS ports, and must set ssl-policy to an ELBSecurityPolicy-TLS13-* policy. Ingresses of
other classes are not the ALB's and are left alone (UNKNOWN).
"""

from __future__ import annotations

import json
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check
from pred_common import get_path, mapping

PREFIX = "alb.ingress.kubernetes.io/"
TLS13_PREFIX = "ELBSecurityPolicy-TLS13-"


def _listen_ports(text: str) -> list[tuple[str, int]] | None:
    try:
        entries = json.loads(text)
    except ValueError:
        return None
    if not isinstance(entries, list):
        return None
    ports = []
    for entry in entries:
        if not isinstance(entry, dict):
            return None
        ports += [(str(protocol).upper(), int(port)) for protocol, port in entry.items()]
    return ports


class AlbIngressIsHttpsOnly(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="ALB Ingress listens on HTTPS only (HTTP only redirects), ELBSecurityPolicy-TLS13-* policy",
            id="CKV_PRED_K8S_1",
            categories=[CheckCategories.KUBERNETES],
            supported_entities=["Ingress"],
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        annotations = mapping(get_path(conf, "metadata", "annotations"))
        ingress_class = get_path(conf, "spec", "ingressClassName") or annotations.get(
            "kubernetes.io/ingress.class"
        )
        if ingress_class != "alb":
            return CheckResult.UNKNOWN
        ports = _listen_ports(str(annotations.get(f"{PREFIX}listen-ports", '[{"HTTP": 80}]')))
        if not ports:
            return CheckResult.FAILED
        https = {port for protocol, port in ports if protocol == "HTTPS"}
        if not https or any(protocol not in {"HTTP", "HTTPS"} for protocol, _ in ports):
            return CheckResult.FAILED
        if any(protocol == "HTTP" for protocol, _ in ports):
            redirect = str(annotations.get(f"{PREFIX}ssl-redirect", ""))
            if not redirect.isdigit() or int(redirect) not in https:
                return CheckResult.FAILED
        policy = str(annotations.get(f"{PREFIX}ssl-policy", ""))
        return CheckResult.PASSED if policy.startswith(TLS13_PREFIX) else CheckResult.FAILED


check = AlbIngressIsHttpsOnly()
