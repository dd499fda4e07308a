"""CKV_PRED_K8S_5..7: Karpenter's EC2NodeClass launches nodes that keep pods off the instance's role.

IMDSv2 only: no unauthenticated metadata call. A hop limit of 1: a pod's packets take a second hop, so a
pod cannot fetch the node role's credentials (pods use EKS Pod Identity). The root volume (rootVolume:
true, or the first mapping) is encrypted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pred_common import K8sCheck, get_path


def _root_volume_encrypted(conf: dict[str, Any]) -> bool:
    mappings = [m for m in get_path(conf, "spec", "blockDeviceMappings") or [] if isinstance(m, dict)]
    roots = [m for m in mappings if m.get("rootVolume") is True] or mappings[:1]
    return bool(roots) and get_path(roots[0], "ebs", "encrypted") is True


class NodeClassCheck(K8sCheck):
    def __init__(self, check_id: str, name: str, rule: Callable[[dict[str, Any]], bool]) -> None:
        super().__init__(check_id, name, ["EC2NodeClass"])
        self.rule = rule

    def judge(self, conf: dict[str, Any]) -> bool | None:
        return self.rule(conf) if str(conf.get("apiVersion", "")).startswith("karpenter.k8s.aws/") else None


imds_check = NodeClassCheck(
    "CKV_PRED_K8S_5",
    "EC2NodeClass requires IMDSv2 (httpTokens: required)",
    lambda conf: get_path(conf, "spec", "metadataOptions", "httpTokens") == "required",
)
hop_limit_check = NodeClassCheck(
    "CKV_PRED_K8S_6",
    "EC2NodeClass keeps the metadata hop limit at 1",
    lambda conf: get_path(conf, "spec", "metadataOptions", "httpPutResponseHopLimit") == 1,
)
root_volume_check = NodeClassCheck(
    "CKV_PRED_K8S_7", "EC2NodeClass encrypts the root volume", _root_volume_encrypted
)
