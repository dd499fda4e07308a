"""CKV_PRED_K8S_4: a namespace whose pods sit behind the ALB has the controller inject readiness gates.

Without the label, a rolling update can outrun the target registration and drop requests. A namespace is
behind the ALB when a TargetGroupBinding, or an Ingress of class alb, is applied into it from the same
folder (what one `kubectl apply -f` sends); checkov hands a check one object, so this check reads the
other manifests of the object's folder itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from checkov.common.util.data_structures_utils import find_in_dict
from pred_common import K8sCheck, mapping

LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"


def _load_balanced_namespaces(folder: Path) -> set[str]:
    namespaces: set[str] = set()
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(document, dict):
                continue
            kind, annotations = document.get("kind"), find_in_dict(document, "metadata/annotations") or {}
            bound = kind == "TargetGroupBinding" and str(document.get("apiVersion")).startswith(
                "elbv2.k8s.aws/"
            )
            ingress = kind == "Ingress" and "alb" in {
                find_in_dict(document, "spec/ingressClassName"),
                annotations.get("kubernetes.io/ingress.class"),
            }
            namespace = find_in_dict(document, "metadata/namespace")
            if (bound or ingress) and namespace:
                namespaces.add(str(namespace))
    return namespaces


class NamespaceInjectsReadinessGates(K8sCheck):
    def judge(self, conf: dict[str, Any]) -> bool | None:
        scanned = self.entity_path.rsplit(":", 2)[0]
        manifest = next((p for p in (Path(scanned), Path.cwd() / scanned.lstrip("/")) if p.is_file()), None)
        if manifest is None:
            message = f"cannot find the manifest of {self.entity_path} to read its folder"
            raise FileNotFoundError(message)
        if find_in_dict(conf, "metadata/name") not in _load_balanced_namespaces(manifest.parent):
            return None
        return mapping(find_in_dict(conf, "metadata/labels")).get(LABEL) == "enabled"


check = NamespaceInjectsReadinessGates(
    "CKV_PRED_K8S_4", "Namespace of pods behind the ALB has the readiness-gate injection label", ["Namespace"]
)
