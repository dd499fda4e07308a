"""CKV_PRED_K8S_1: an ALB Ingress listens on HTTPS only (plain HTTP only redirects) with a TLS 1.3 policy
whose minimum is TLS 1.2 (named in policies/allowlists.toml: a name's prefix is not its meaning).

The AWS Load Balancer Controller builds the listeners from annotations: without listen-ports it opens
HTTP:80 only, and without ssl-redirect a port-80 listener forwards. Ingresses of other classes are not
the ALB's and are left alone.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from checkov.common.util.data_structures_utils import find_in_dict
from pred_common import K8sCheck, mapping

PREFIX = "alb.ingress.kubernetes.io/"
ALLOWLISTS = Path(__file__).resolve().parents[1] / "allowlists.toml"
TLS_POLICIES = tomllib.loads(ALLOWLISTS.read_text(encoding="utf-8"))["tls_policies"]


def _listen_ports(text: str) -> list[tuple[str, int]]:
    """[(protocol, port)] of a listen-ports annotation; [] when it is not a list of {protocol: port}."""
    try:
        entries = json.loads(text)
    except ValueError:
        return []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        return []
    return [(str(protocol).upper(), int(port)) for entry in entries for protocol, port in entry.items()]


class AlbIngressIsHttpsOnly(K8sCheck):
    def judge(self, conf: dict[str, Any]) -> bool | None:
        annotations = mapping(find_in_dict(conf, "metadata/annotations"))
        ingress_class = find_in_dict(conf, "spec/ingressClassName") or annotations.get(
            "kubernetes.io/ingress.class"
        )
        if ingress_class != "alb":
            return None
        ports = _listen_ports(str(annotations.get(f"{PREFIX}listen-ports", '[{"HTTP": 80}]')))
        https = {port for protocol, port in ports if protocol == "HTTPS"}
        if not https or any(protocol not in {"HTTP", "HTTPS"} for protocol, _ in ports):
            return False
        redirect = str(annotations.get(f"{PREFIX}ssl-redirect", ""))
        if any(protocol == "HTTP" for protocol, _ in ports) and not (
            redirect.isdigit() and int(redirect) in https
        ):
            return False
        return annotations.get(f"{PREFIX}ssl-policy") in TLS_POLICIES


check = AlbIngressIsHttpsOnly(
    "CKV_PRED_K8S_1",
    "ALB Ingress listens on HTTPS only (HTTP only redirects), a TLS policy of policies/allowlists.toml",
    ["Ingress"],
)
