"""CKV_PRED_K8S_7: Karpenter's EC2NodeClass encrypts the root volume (rootVolume: true, or the first mapping).

Its IMDS rules (CKV_PRED_K8S_5, _6) compare one attribute each: pred_k8s_nodeclass_*.yaml.
"""

from __future__ import annotations

from typing import Any

from checkov.common.util.data_structures_utils import find_in_dict
from pred_common import K8sCheck


class RootVolumeEncrypted(K8sCheck):
    def judge(self, conf: dict[str, Any]) -> bool:
        mappings = [m for m in find_in_dict(conf, "spec/blockDeviceMappings") or [] if isinstance(m, dict)]
        roots = [m for m in mappings if m.get("rootVolume") is True] or mappings[:1]
        return bool(roots) and find_in_dict(roots[0], "ebs/encrypted") is True


check = RootVolumeEncrypted("CKV_PRED_K8S_7", "EC2NodeClass encrypts the root volume", ["EC2NodeClass"])
