"""Node capacity for the service's cluster: a Karpenter NodePool and the EC2NodeClass it launches from.

The HPA only adds pods; Karpenter adds the nodes they need. Both objects are cluster-scoped and belong
to whoever administers the cluster, so they are rendered into their own folder (``dist/<env>-cluster/``)
and ``kubectl apply -f dist/<env>/`` stays the service's deploy.

The ``[node_pool]`` model (``manifests_py.node_pool_props``) goes straight into the two specs: synthesis
validates them strictly against the upstream CRD schemas, so a misspelt or misplaced field fails there.
What cannot be weakened (IMDSv2 with a hop limit of 1, so pods, which get AWS credentials through EKS Pod
Identity, cannot reach the node's instance role; an encrypted gp3 root volume) has no knob.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cdk8s import ApiObject, ApiObjectMetadata, JsonPatch
from constructs import Construct

from manifests_py.node_pool_props import AL2023_ROOT_DEVICE, DISCOVERY_TAG, NodePool

__all__ = ["KarpenterNodePool"]

_AWS = "karpenter.k8s.aws"


def _requirements(pool: NodePool) -> list[dict[str, Any]]:
    families = [(f"{_AWS}/instance-family", "In", pool.instance_families)] if pool.instance_families else []
    wanted = [
        ("kubernetes.io/os", "In", ("linux",)),
        ("kubernetes.io/arch", "In", pool.architectures),
        ("karpenter.sh/capacity-type", "In", pool.capacity_types),
        ("topology.kubernetes.io/zone", "In", pool.zones),
        (f"{_AWS}/instance-category", "In", pool.instance_categories),
        *families,
        (f"{_AWS}/instance-generation", "Gt", (str(pool.instance_generation_min - 1),)),
        (f"{_AWS}/instance-cpu", "Lt", (str(pool.instance_cpu_max + 1),)),
    ]
    return [{"key": key, "operator": operator, "values": list(values)} for key, operator, values in wanted]


def _node_class_spec(pool: NodePool, tags: Mapping[str, str]) -> dict[str, Any]:
    discovery = [{"tags": {DISCOVERY_TAG: pool.cluster_name}}]
    return {
        "role": pool.node_role_name,
        "amiSelectorTerms": [{"alias": pool.ami_alias}],
        "subnetSelectorTerms": discovery,
        "securityGroupSelectorTerms": discovery,
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": AL2023_ROOT_DEVICE,
                "rootVolume": True,
                "ebs": {
                    "volumeSize": f"{pool.root_volume_gibibytes}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "deleteOnTermination": True,
                },
            }
        ],
        "tags": dict(tags),
    }


def _node_pool_spec(pool: NodePool, node_class: str) -> dict[str, Any]:
    return {
        "template": {
            "spec": {
                "nodeClassRef": {"group": _AWS, "kind": "EC2NodeClass", "name": node_class},
                "requirements": _requirements(pool),
                "expireAfter": pool.expire_after,
                "terminationGracePeriod": pool.termination_grace_period,
            }
        },
        "disruption": {
            "consolidationPolicy": pool.consolidation_policy,
            "consolidateAfter": pool.consolidate_after,
            "budgets": [b.model_dump(mode="json", exclude_defaults=True) for b in pool.disruption_budgets],
        },
        "limits": {"cpu": pool.cpu_limit, "memory": pool.memory_limit},
    }


class KarpenterNodePool(Construct):
    """An EC2NodeClass and the NodePool that launches from it, both named ``name``."""

    def __init__(
        self,
        scope: Construct,
        name: str,
        *,
        pool: NodePool,
        labels: Mapping[str, str],
        tags: Mapping[str, str],
    ) -> None:
        super().__init__(scope, name)
        metadata = ApiObjectMetadata(name=name, labels=dict(labels))
        specs = {
            (f"{_AWS}/v1", "EC2NodeClass"): _node_class_spec(pool, tags),
            ("karpenter.sh/v1", "NodePool"): _node_pool_spec(pool, node_class=name),
        }
        for (api_version, kind), spec in specs.items():
            resource = ApiObject(self, kind, api_version=api_version, kind=kind, metadata=metadata)
            resource.add_json_patch(JsonPatch.add("/spec", spec))
