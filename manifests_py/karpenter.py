"""Node capacity for the service's cluster: a Karpenter NodePool and the EC2NodeClass it launches from.

The HPA only adds pods; Karpenter adds the nodes they need. Both objects are cluster-scoped and belong
to whoever administers the cluster, so they are rendered into their own folder (``dist/<env>-cluster/``)
and ``kubectl apply -f dist/<env>/`` stays the service's deploy.

The props default to a restricted pool: current-generation compute and general-purpose instances
(the service is CPU-bound, see ``make capacity``), on-demand, the architecture the image is built for,
bounded size and total capacity, consolidation of empty and under-used nodes at a bounded pace,
nodes replaced monthly, IMDSv2 only with a hop limit of 1 (pods, which get AWS credentials through
IRSA, cannot reach the node's instance role), and an encrypted gp3 root volume. What cannot be
weakened (IMDSv2, encryption) has no knob.
"""

from __future__ import annotations

from cdk8s import ApiObjectMetadata
from constructs import Construct

from manifests_py.crds import (
    AmiSelectorTerm,
    BlockDeviceMapping,
    DisruptionBudget,
    EbsVolume,
    EC2NodeClass,
    EC2NodeClassSpec,
    InstanceMetadataOptions,
    NodeClaimTemplate,
    NodeClaimTemplateSpec,
    NodeClassReference,
    NodePool,
    NodePoolDisruption,
    NodePoolSpec,
    NodeSelectorRequirement,
    RequirementOperator,
    TagSelectorTerm,
)
from manifests_py.node_pool_props import AL2023_ROOT_DEVICE, DISCOVERY_TAG, NodePoolProps

__all__ = ["KarpenterNodePool"]


def _requirements(props: NodePoolProps) -> list[NodeSelectorRequirement]:
    def require(key: str, operator: RequirementOperator, *values: str) -> NodeSelectorRequirement:
        return NodeSelectorRequirement(key=key, operator=operator, values=[str(v) for v in values])

    aws = "karpenter.k8s.aws"
    requirements = [
        require("kubernetes.io/os", "In", "linux"),
        require("kubernetes.io/arch", "In", *props.pool.architectures),
        require("karpenter.sh/capacity-type", "In", *props.pool.capacity_types),
        require("topology.kubernetes.io/zone", "In", *props.pool.zones),
        require(f"{aws}/instance-category", "In", *props.pool.instance_categories),
    ]
    if props.pool.instance_families:
        requirements.append(require(f"{aws}/instance-family", "In", *props.pool.instance_families))
    requirements += [
        require(f"{aws}/instance-generation", "Gt", str(props.pool.instance_generation_min - 1)),
        require(f"{aws}/instance-cpu", "Lt", str(props.pool.instance_cpu_max + 1)),
    ]
    return requirements


def _quantity_cpu(millicores: int) -> str:
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def _quantity_memory(mebibytes: int) -> str:
    return f"{mebibytes // 1024}Gi" if mebibytes % 1024 == 0 else f"{mebibytes}Mi"


def _node_class_spec(props: NodePoolProps) -> EC2NodeClassSpec:
    discovery = [TagSelectorTerm(tags={DISCOVERY_TAG: props.cluster_name})]
    return EC2NodeClassSpec(
        role=props.node_role_name,
        ami_selector_terms=[AmiSelectorTerm(alias=props.pool.ami_alias)],
        subnet_selector_terms=discovery,
        security_group_selector_terms=discovery,
        # IMDSv2 only; a hop limit of 1 keeps the instance role's credentials away from pods.
        metadata_options=InstanceMetadataOptions(
            http_endpoint="enabled",
            http_protocol_ipv6="disabled",
            http_put_response_hop_limit=1,
            http_tokens="required",
        ),
        block_device_mappings=[
            BlockDeviceMapping(
                device_name=AL2023_ROOT_DEVICE,
                root_volume=True,
                ebs=EbsVolume(
                    volume_size=f"{props.pool.root_volume_gibibytes}Gi",
                    volume_type="gp3",
                    encrypted=True,
                    delete_on_termination=True,
                ),
            )
        ],
        tags=dict(props.tags) or None,
    )


def _node_pool_spec(props: NodePoolProps) -> NodePoolSpec:
    return NodePoolSpec(
        template=NodeClaimTemplate(
            spec=NodeClaimTemplateSpec(
                node_class_ref=NodeClassReference(
                    group=EC2NodeClass.API_VERSION.split("/")[0], kind=EC2NodeClass.KIND, name=props.name
                ),
                requirements=_requirements(props),
                expire_after=props.pool.expire_after,
                termination_grace_period=props.pool.termination_grace_period,
            )
        ),
        disruption=NodePoolDisruption(
            consolidation_policy=props.pool.consolidation_policy.value,
            consolidate_after=props.pool.consolidate_after,
            budgets=[
                DisruptionBudget(
                    nodes=budget.nodes,
                    reasons=[reason.value for reason in budget.reasons] or None,
                    schedule=budget.schedule,
                    duration=budget.duration,
                )
                for budget in props.pool.disruption_budgets
            ],
        ),
        limits={
            "cpu": _quantity_cpu(props.pool.cpu_limit_millicores),
            "memory": _quantity_memory(props.pool.memory_limit_mebibytes),
        },
    )


class KarpenterNodePool(Construct):
    """An EC2NodeClass and the NodePool that launches from it, both named ``props.name``."""

    def __init__(self, scope: Construct, id_: str, *, props: NodePoolProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        metadata = ApiObjectMetadata(name=props.name, labels=dict(props.labels))
        EC2NodeClass(self, "node-class", metadata=metadata, spec=_node_class_spec(props))
        NodePool(self, "node-pool", metadata=metadata, spec=_node_pool_spec(props))
