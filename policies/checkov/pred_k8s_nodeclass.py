"""CKV_PRED_K8S_5..7: Karpenter's EC2NodeClass launches nodes that keep pods off the instance's role.

- CKV_PRED_K8S_5: IMDSv2 only (metadataOptions.httpTokens: required): no unauthenticated metadata call.
- CKV_PRED_K8S_6: a hop limit of 1 (httpPutResponseHopLimit): a pod's packets take a second hop, so a pod
  cannot fetch the node role's credentials (pods use IRSA).
- CKV_PRED_K8S_7: the root volume (rootVolume: true, or the first mapping) is encrypted.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check
from pred_common import get_path


class _NodeClassCheck(BaseK8Check):
    def __init__(self, name: str, id_: str) -> None:
        super().__init__(
            name=name, id=id_, categories=[CheckCategories.KUBERNETES], supported_entities=["EC2NodeClass"]
        )

    @staticmethod
    def is_karpenter(conf: dict[str, Any]) -> bool:
        return str(conf.get("apiVersion", "")).startswith("karpenter.k8s.aws/")


class NodeClassRequiresImdsV2(_NodeClassCheck):
    def __init__(self) -> None:
        super().__init__("EC2NodeClass requires IMDSv2 (httpTokens: required)", "CKV_PRED_K8S_5")

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not self.is_karpenter(conf):
            return CheckResult.UNKNOWN
        tokens = get_path(conf, "spec", "metadataOptions", "httpTokens")
        return CheckResult.PASSED if tokens == "required" else CheckResult.FAILED


class NodeClassHopLimitIsOne(_NodeClassCheck):
    def __init__(self) -> None:
        super().__init__("EC2NodeClass keeps the metadata hop limit at 1", "CKV_PRED_K8S_6")

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not self.is_karpenter(conf):
            return CheckResult.UNKNOWN
        limit = get_path(conf, "spec", "metadataOptions", "httpPutResponseHopLimit")
        return CheckResult.PASSED if limit == 1 else CheckResult.FAILED


class NodeClassRootVolumeEncrypted(_NodeClassCheck):
    def __init__(self) -> None:
        super().__init__("EC2NodeClass encrypts the root volume", "CKV_PRED_K8S_7")

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not self.is_karpenter(conf):
            return CheckResult.UNKNOWN
        mappings = [m for m in get_path(conf, "spec", "blockDeviceMappings") or [] if isinstance(m, dict)]
        roots = [m for m in mappings if m.get("rootVolume") is True] or mappings[:1]
        if not roots:
            return CheckResult.FAILED
        return CheckResult.PASSED if get_path(roots[0], "ebs", "encrypted") is True else CheckResult.FAILED


imds_check = NodeClassRequiresImdsV2()
hop_limit_check = NodeClassHopLimitIsOne()
root_volume_check = NodeClassRootVolumeEncrypted()
