"""Karpenter's NodePool and EC2NodeClass: valid against the upstream CRDs, restricted by default, fed by
the environment's Terraform outputs, and kept out of the service's own folder."""

from __future__ import annotations

from typing import get_args

import pytest
import yaml
from pydantic import ValidationError

from manifests_py._model import describe_errors, mebibytes
from manifests_py.config import ConfigError, load_environment
from manifests_py.node_pool_props import Budget, InstanceCategory, NodePool, duration_seconds
from manifests_py.renderings import RENDERINGS, Layer, node_pool
from manifests_py.shutdown import ShutdownTimings
from manifests_py.validation import CRD_SCHEMA_DIR, CRD_SCHEMA_FILES, kubernetes_versions, validate_objects
from tests.manifests.conftest import DIST, load_folder

NODE_POOL = ("karpenter.sh/v1", "NodePool")
NODE_CLASS = ("karpenter.k8s.aws/v1", "EC2NodeClass")
CLUSTER_FOLDERS = [r.folder for r in RENDERINGS if r.layer is Layer.CLUSTER]


def objects_of(folder):
    return {(o["apiVersion"], o["kind"]): o for o in load_folder(DIST / folder)}


def pool(**overrides):
    base = {
        "zones": ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
        "cpu_limit": "32",
        "memory_limit": "64Gi",
    }
    return NodePool(**(base | overrides))


def test_every_environment_has_its_cluster_folder():
    environments = {r.environment for r in RENDERINGS if r.layer is Layer.SERVICE and r.target.value == "eks"}
    assert sorted(CLUSTER_FOLDERS) == sorted(f"{env}-cluster" for env in environments)


@pytest.mark.parametrize("folder", CLUSTER_FOLDERS)
def test_cluster_objects_validate_strictly_against_the_karpenter_crds(folder):
    objects = load_folder(DIST / folder)
    # Besides the node capacity, the folder holds the deploy role's RBAC (test_deployer_access.py).
    rbac = {("rbac.authorization.k8s.io/v1", "Role"), ("rbac.authorization.k8s.io/v1", "RoleBinding")}
    assert {(o["apiVersion"], o["kind"]) for o in objects} == {NODE_POOL, NODE_CLASS} | rbac
    assert validate_objects(objects, versions=kubernetes_versions()) == []


def test_strict_validation_catches_a_misplaced_field():
    node_class = objects_of("prod-cluster")[NODE_CLASS]
    broken = yaml.safe_load(yaml.safe_dump(node_class))
    broken["spec"]["metadataOptions"]["httpTokenz"] = "optional"
    problems = validate_objects([broken], versions=kubernetes_versions())
    assert problems, "an unknown field must fail"
    assert "httpTokenz" in str(problems[0])


@pytest.mark.parametrize("folder", CLUSTER_FOLDERS)
def test_cluster_scoped_objects_stay_out_of_the_service_folders(folder):
    for document in load_folder(DIST / folder):
        if (document["apiVersion"], document["kind"]) in {NODE_POOL, NODE_CLASS}:
            assert "namespace" not in document["metadata"], "NodePool and EC2NodeClass are cluster-scoped"
    service_folder = folder.removesuffix("-cluster")
    kinds = {(o["apiVersion"], o["kind"]) for o in load_folder(DIST / service_folder)}
    assert not kinds & {NODE_POOL, NODE_CLASS}, "kubectl apply -f dist/<env>/ stays the service's deploy"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_terraform_outputs_feed_the_node_class(environment):
    config = load_environment(environment)
    node_class = objects_of(f"{environment}-cluster")[NODE_CLASS]["spec"]
    assert node_class["role"] == config.node_pool.node_role_name
    discovery = [{"tags": {"karpenter.sh/discovery": config.node_pool.cluster_name}}]
    assert node_class["subnetSelectorTerms"] == discovery
    assert node_class["securityGroupSelectorTerms"] == discovery
    pool = objects_of(f"{environment}-cluster")[NODE_POOL]["spec"]
    assert pool["template"]["spec"]["nodeClassRef"] == {
        "group": "karpenter.k8s.aws",
        "kind": "EC2NodeClass",
        "name": objects_of(f"{environment}-cluster")[NODE_CLASS]["metadata"]["name"],
    }


@pytest.mark.parametrize("folder", CLUSTER_FOLDERS)
def test_nodes_require_imdsv2_with_hop_limit_one_and_an_encrypted_gp3_root(folder):
    spec = objects_of(folder)[NODE_CLASS]["spec"]
    assert spec["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpProtocolIPv6": "disabled",
        "httpPutResponseHopLimit": 1,
        "httpTokens": "required",
    }
    (root,) = spec["blockDeviceMappings"]
    assert root["rootVolume"] is True
    assert root["ebs"]["encrypted"] is True
    assert root["ebs"]["volumeType"] == "gp3"
    assert root["ebs"]["deleteOnTermination"] is True
    (ami,) = spec["amiSelectorTerms"]
    assert ami["alias"].startswith("al2023@")


def test_prod_pins_its_ami_and_dev_follows_the_newest():
    assert objects_of("dev-cluster")[NODE_CLASS]["spec"]["amiSelectorTerms"] == [{"alias": "al2023@latest"}]
    prod = objects_of("prod-cluster")[NODE_CLASS]["spec"]["amiSelectorTerms"][0]["alias"]
    assert prod != "al2023@latest", "prod runs a release dev has already run"


def requirement(pool, key):
    matches = [r for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == key]
    assert len(matches) == 1, key
    return matches[0]


@pytest.mark.parametrize("folder", CLUSTER_FOLDERS)
def test_node_pool_is_restricted(folder):
    pool = objects_of(folder)[NODE_POOL]
    categories = requirement(pool, "karpenter.k8s.aws/instance-category")
    assert categories["operator"] == "In"
    assert set(categories["values"]) <= set(get_args(InstanceCategory))
    assert requirement(pool, "karpenter.k8s.aws/instance-generation")["operator"] == "Gt"
    assert requirement(pool, "karpenter.k8s.aws/instance-cpu")["operator"] == "Lt"
    assert requirement(pool, "kubernetes.io/arch")["values"] == ["amd64"], "the image is built for amd64"
    disruption = pool["spec"]["disruption"]
    assert disruption["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert duration_seconds(disruption["consolidateAfter"]) > 0
    assert disruption["budgets"], "an empty budget list would allow disrupting every node at once"
    assert set(pool["spec"]["limits"]) == {"cpu", "memory"}
    template = pool["spec"]["template"]["spec"]
    assert duration_seconds(template["expireAfter"]) <= 30 * 24 * 3600, "nodes are replaced at least monthly"


def test_zones_match_the_zone_spread_of_the_pods():
    for environment in ("dev", "prod"):
        pool = objects_of(f"{environment}-cluster")[NODE_POOL]
        zones = requirement(pool, "topology.kubernetes.io/zone")["values"]
        assert zones == list(load_environment(environment).node_pool.zones)
        assert len(zones) >= 2, "a zone outage must leave capacity to spread into"
    prod = load_environment("prod")
    assert prod.scale.min >= len(prod.node_pool.zones), "prod keeps a pod in every zone at its minimum"


def test_prod_takes_on_demand_only_and_pauses_consolidation_in_business_hours():
    pool = objects_of("prod-cluster")[NODE_POOL]
    assert requirement(pool, "karpenter.sh/capacity-type")["values"] == ["on-demand"]
    budgets = pool["spec"]["disruption"]["budgets"]
    assert {"nodes": "10%"} in budgets
    paused = [b for b in budgets if b["nodes"] == "0"]
    assert paused == [
        {"nodes": "0", "reasons": ["Underutilized"], "schedule": "0 7 * * mon-fri", "duration": "12h"}
    ]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_pool_limit_holds_the_hpa_maximum(environment):
    config = load_environment(environment)
    pool_cpu = config.node_pool.cpu_limit_millicores
    assert pool_cpu >= config.scale.max * config.resources.cpu_request_millicores
    assert (
        mebibytes(config.node_pool.memory_limit)
        >= config.scale.max * config.resources.memory_request_mebibytes
    )


def test_node_grace_period_outlasts_the_pods_drain(card):
    timings = ShutdownTimings.for_card(card)
    for environment in ("dev", "prod"):
        grace = objects_of(f"{environment}-cluster")[NODE_POOL]["spec"]["template"]["spec"]
        assert duration_seconds(grace["terminationGracePeriod"]) > timings.termination_grace_period_seconds
    config = load_environment("prod")
    config = config.model_copy(update={"node_pool": pool(termination_grace_period="30s")})
    pods = timings.termination_grace_period_seconds
    expected = rf"must exceed the pods' terminationGracePeriodSeconds \({pods} s\)"
    with pytest.raises(
        ConfigError, match=r"prod\.toml: node_pool\.termination_grace_period: 30s " + expected
    ):
        node_pool(card, config)


def test_restricted_defaults():
    defaults = pool()
    assert defaults.instance_categories == ("c", "m")
    assert defaults.capacity_types == ("on-demand",)
    assert defaults.architectures == ("amd64",)
    assert defaults.consolidation_policy == "WhenEmptyOrUnderutilized"
    assert defaults.disruption_budgets == (Budget(nodes="10%"),)
    assert duration_seconds(defaults.expire_after) == 30 * 24 * 3600
    assert defaults.instance_generation_min >= 6


# The same rules hold for props built in code as for the [node_pool] table: one case per rule, checked
# for its location and a meaningful fragment of the reason (as synthesis would print it).
@pytest.mark.parametrize(
    ("overrides", "location", "fragment"),
    [
        ({"instance_categories": ("c", "t")}, "instance_categories[1]", "'r'"),
        ({"instance_families": ("r7i",)}, "instance_families", "'r7i' is not a family of c, m"),
        ({"zones": ()}, "zones", "empty"),
        ({"zones": ("eu-west-1a", "eu-west-1a")}, "zones", "lists a value twice"),
        ({"cpu_limit": "0"}, "cpu_limit", "must be above zero"),
        ({"expire_after": "Never"}, "expire_after", "'Never' is not a duration"),
        ({"ami_alias": "bottlerocket@latest"}, "ami_alias", "'bottlerocket@latest'"),
        ({"disruption_budgets": ()}, "disruption_budgets", "may disrupt every node"),
        ({"root_volume_gibibytes": 8}, "root_volume_gibibytes", "20, got 8"),
        ({"zonez": ("eu-west-1a",)}, "zonez", "unknown field"),
    ],
)
def test_unsafe_props_are_refused(overrides, location, fragment):
    with pytest.raises(ValidationError) as raised:
        pool(**overrides)
    (problem,) = describe_errors(raised.value)
    assert problem.startswith(f"{location}: ")
    assert fragment in problem


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ({"nodes": "110%"}, r"'110%' is not a node count or percentage"),
        ({"nodes": "1", "schedule": "0 7 * * mon-fri"}, r"schedule and duration go together"),
        ({"nodes": "1", "schedule": "weekdays", "duration": "8h"}, r"'weekdays' is not a cron expression"),
        ({"nodes": "1", "schedule": "0 7 * * *", "duration": "30s"}, r"'30s' is not in hours and minutes"),
    ],
)
def test_bad_budgets_are_refused(budget, message):
    with pytest.raises(ValidationError, match=message):
        Budget(**budget)


def crd_rule(file_name, message):
    """The CEL rule whose message starts with ``message`` in an upstream CRD (jsonschema cannot evaluate
    CEL; we check ours). A prefix, because releases extend such messages (the alias families grow)."""
    text = (CRD_SCHEMA_DIR / file_name).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    found = []

    def walk(node):
        if isinstance(node, dict):
            found.extend(
                v["rule"]
                for v in node.get("x-kubernetes-validations", [])
                if v["message"].startswith(message)
            )
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert found, message
    return found[0]


def test_requirement_keys_pass_the_crds_label_domain_rules():
    rule = crd_rule(CRD_SCHEMA_FILES[NODE_POOL], 'label domain "karpenter.k8s.aws" is restricted')
    sh_rule = crd_rule(CRD_SCHEMA_FILES[NODE_POOL], 'label domain "karpenter.sh" is restricted')
    for folder in CLUSTER_FOLDERS:
        for item in objects_of(folder)[NODE_POOL]["spec"]["template"]["spec"]["requirements"]:
            domain = item["key"].split("/")[0]
            if domain == "karpenter.k8s.aws":
                assert f'"{item["key"]}"' in rule, item["key"]
            if domain.endswith("karpenter.sh"):
                assert f'"{item["key"]}"' in sh_rule, item["key"]
            if item["operator"] in {"Gt", "Lt"}:
                assert len(item["values"]) == 1
                assert int(item["values"][0]) >= 0


def test_the_alias_passes_the_crds_alias_rules():
    families = crd_rule(
        CRD_SCHEMA_FILES[NODE_CLASS], "family is not supported, must be one of the following:"
    )
    for folder in CLUSTER_FOLDERS:
        alias = objects_of(folder)[NODE_CLASS]["spec"]["amiSelectorTerms"][0]["alias"]
        assert len(alias) <= 30
        assert f"'{alias.split('@')[0]}'" in families


def test_a_missing_node_pool_is_a_named_error(card):
    config = load_environment("prod").model_copy(update={"node_pool": None})
    with pytest.raises(
        ValueError, match=r"prod\.toml: node_pool: missing \(the prod-cluster rendering needs it\)"
    ):
        node_pool(card, config)
