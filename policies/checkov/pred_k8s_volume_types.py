"""CKV_PRED_K8S_2: a pod uses only the volume types the Pod Security `restricted` level allows.

checkov's built-ins look at hostPath and a few others one by one; this is the admission rule as written,
applied before the namespace's admission controller would refuse the pod at deploy time.
"""

from __future__ import annotations

from typing import Any

from pred_common import K8sCheck, fields, pod_spec

RESTRICTED_VOLUME_TYPES = frozenset(
    [
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ]
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


class VolumesAreRestricted(K8sCheck):
    def judge(self, conf: dict[str, Any]) -> bool | None:
        spec = pod_spec(conf)
        if spec is None:
            return None
        sources = [set(fields(volume)) - {"name"} for volume in spec.get("volumes") or []]
        return all(len(kinds) == 1 and kinds <= RESTRICTED_VOLUME_TYPES for kinds in sources)


check = VolumesAreRestricted(
    "CKV_PRED_K8S_2", "Pod volumes are of the types Pod Security restricted allows", WORKLOADS
)
