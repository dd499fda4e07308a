"""CKV_PRED_K8S_3: a replicated workload spreads its pods across zones, and insists on it.

Zero-downtime needs the replicas in more than one zone: whenUnsatisfiable: DoNotSchedule (ScheduleAnyway
is only a wish), a maxSkew of 1, and a labelSelector that selects the workload's own pods (a selector
that matches other pods spreads those instead).
"""

from __future__ import annotations

from typing import Any

from checkov.common.util.data_structures_utils import find_in_dict
from pred_common import K8sCheck, mapping


class ReplicasSpreadAcrossZones(K8sCheck):
    def judge(self, conf: dict[str, Any]) -> bool:
        pod_labels = mapping(find_in_dict(conf, "spec/template/metadata/labels"))
        for constraint in find_in_dict(conf, "spec/template/spec/topologySpreadConstraints") or []:
            selected = mapping(find_in_dict(constraint, "labelSelector/matchLabels"))
            if (
                find_in_dict(constraint, "topologyKey") == "topology.kubernetes.io/zone"
                and find_in_dict(constraint, "whenUnsatisfiable") == "DoNotSchedule"
                and find_in_dict(constraint, "maxSkew") == 1
                and bool(selected)
                and all(pod_labels.get(key) == value for key, value in selected.items())
            ):
                return True
        return False


check = ReplicasSpreadAcrossZones(
    "CKV_PRED_K8S_3",
    "Replicated workload spreads across zones (DoNotSchedule, maxSkew 1, its own pods)",
    ["Deployment", "StatefulSet"],
)
