"""CKV_PRED_K8S_4: a namespace whose pods sit behind the ALB has the controller inject readiness gates.

With `elbv2.k8s.aws/pod-readiness-gate-inject: enabled` on the namespace, the AWS Load Balancer
Controller adds a readiness gate to each new pod, and a rolling update waits until the target group
reports the new pod healthy before it takes an old one away; without it, a rollout can outrun the
target registration and drop requests.

A namespace is behind the ALB when a TargetGroupBinding, or an Ingress of class alb, is applied into it
from the same folder (dist/<environment>/ is what one `kubectl apply -f` sends); a namespace with
neither (the Knative rendering) is not this rule's concern. checkov hands a check one object, so this
check reads the other manifests of the object's folder itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check
from pred_common import get_path, mapping

LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"


def _manifest(entity_path: str) -> Path | None:
    scanned = entity_path.rsplit(":", 2)[0]
    for candidate in (Path(scanned), Path.cwd() / scanned.lstrip("/")):
        if candidate.is_file():
            return candidate
    return None


def _load_balanced_namespaces(folder: Path) -> set[str]:
    namespaces: set[str] = set()
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(document, dict):
                continue
            kind, annotations = document.get("kind"), get_path(document, "metadata", "annotations") or {}
            bound = kind == "TargetGroupBinding" and str(document.get("apiVersion", "")).startswith(
                "elbv2.k8s.aws/"
            )
            ingress = kind == "Ingress" and "alb" in {
                get_path(document, "spec", "ingressClassName"),
                annotations.get("kubernetes.io/ingress.class"),
            }
            namespace = get_path(document, "metadata", "namespace")
            if (bound or ingress) and namespace:
                namespaces.add(str(namespace))
    return namespaces


class NamespaceInjectsReadinessGates(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Namespace of pods behind the ALB has the readiness-gate injection label",
            id="CKV_PRED_K8S_4",
            categories=[CheckCategories.KUBERNETES],
            supported_entities=["Namespace"],
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        manifest = _manifest(self.entity_path)
        if manifest is None:
            message = f"cannot find the manifest of {self.entity_path} to read its folder"
            raise FileNotFoundError(message)
        name = get_path(conf, "metadata", "name")
        if name not in _load_balanced_namespaces(manifest.parent):
            return CheckResult.UNKNOWN
        label = mapping(get_path(conf, "metadata", "labels")).get(LABEL)
        return CheckResult.PASSED if label == "enabled" else CheckResult.FAILED


check = NamespaceInjectsReadinessGates()
