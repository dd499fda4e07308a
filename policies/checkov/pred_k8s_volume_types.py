"""CKV_PRED_K8S_2: a pod uses only the volume types the Pod Security `restricted` level allows.

The restricted level admits configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim,
projected and secret volumes, nothing else (hostPath, nfs, ...). checkov's built-ins look at hostPath
and a few others one by one; this is the admission rule as written, applied before the namespace's
admission controller would refuse the pod at deploy time. Knative Services are judged by their revision
template.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check
from pred_common import fields, pod_spec

RESTRICTED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
WORKLOADS = [
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Service",
]


class VolumesAreRestricted(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Pod volumes are of the types Pod Security restricted allows",
            id="CKV_PRED_K8S_2",
            categories=[CheckCategories.KUBERNETES],
            supported_entities=WORKLOADS,
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        spec = pod_spec(conf)
        if spec is None:
            return CheckResult.UNKNOWN
        for volume in spec.get("volumes") or []:
            if not isinstance(volume, dict):
                return CheckResult.FAILED
            sources = set(fields(volume)) - {"name"}
            if len(sources) != 1 or not sources <= RESTRICTED_VOLUME_TYPES:
                return CheckResult.FAILED
        return CheckResult.PASSED


check = VolumesAreRestricted()
