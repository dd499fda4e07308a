"""CKV_PRED_K8S_3: a replicated workload spreads its pods across zones, and insists on it.

Zero-downtime needs the replicas in more than one zone (ARCHITECTURE.md): a topologySpreadConstraint on
topology.kubernetes.io/zone with whenUnsatisfiable: DoNotSchedule (ScheduleAnyway is only a wish), a
maxSkew of 1, and a labelSelector that selects the workload's own pods (a selector that matches other
pods spreads those instead).
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check
from pred_common import get_path, mapping

ZONE = "topology.kubernetes.io/zone"


class ReplicasSpreadAcrossZones(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Replicated workload spreads across zones (DoNotSchedule, maxSkew 1, its own pods)",
            id="CKV_PRED_K8S_3",
            categories=[CheckCategories.KUBERNETES],
            supported_entities=["Deployment", "StatefulSet"],
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        pod_labels = mapping(get_path(conf, "spec", "template", "metadata", "labels"))
        constraints = get_path(conf, "spec", "template", "spec", "topologySpreadConstraints") or []
        for constraint in constraints:
            if not isinstance(constraint, dict) or constraint.get("topologyKey") != ZONE:
                continue
            selected = mapping(get_path(constraint, "labelSelector", "matchLabels"))
            own_pods = bool(selected) and all(pod_labels.get(key) == value for key, value in selected.items())
            if (
                constraint.get("whenUnsatisfiable") == "DoNotSchedule"
                and constraint.get("maxSkew") == 1
                and own_pods
            ):
                return CheckResult.PASSED
        return CheckResult.FAILED


check = ReplicasSpreadAcrossZones()
