"""The real plan of the root configuration against moto, read as the policy gates will read it."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tools.common import REPO_ROOT
from tools.infra import offline_plan, tfenv

pytestmark = [pytest.mark.slow, pytest.mark.system]


def _changes(plan, resource_type):
    return [rc for rc in plan["resource_changes"] if rc["type"] == resource_type]


def _one(plan, address):
    found = [rc for rc in plan["resource_changes"] if rc["address"] == address]
    assert len(found) == 1, f"{address} is not in the plan"
    return found[0]["change"]["after"]


def _policy_documents(plan):
    """Every policy document the plan knows: (address, attribute, parsed JSON)."""
    for rc in plan["resource_changes"]:
        after = rc["change"]["after"] or {}
        for attribute in ("policy", "assume_role_policy"):
            if isinstance(after.get(attribute), str) and after[attribute].startswith("{"):
                document = json.loads(after[attribute])
                if "Statement" in document:  # not, e.g., an ECR lifecycle policy
                    yield rc["address"], rc["type"], attribute, document


def _statements(document):
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _tfvar(plans: dict, name: str) -> object:
    """A variable of the root plan, as Terraform read it from terraform.tfvars.example."""
    return plans["root"]["variables"][name]["value"]


def test_plan_json_is_written_for_the_policy_gates(plans):
    written = json.loads((tfenv.BUILD_DIR / "plan.json").read_text())
    assert written["resource_changes"] == plans["root"]["resource_changes"]
    assert len(plans["root"]["resource_changes"]) > 100
    assert {rc["change"]["actions"][0] for rc in plans["root"]["resource_changes"]} == {"create"}


def test_the_plan_used_only_the_production_provider_block(plans):
    aws = plans["root"]["configuration"]["provider_config"]["aws"]
    assert set(aws["expressions"]) == {"region", "allowed_account_ids", "default_tags"}


def test_target_group_and_alb_take_their_timings_from_the_service_card(plans, service_card):
    # Its port, readiness path and target type are the pods' contract: tests/contracts.
    target_group = _one(plans["root"], 'module.alb.aws_lb_target_group.track["stable"]')
    lb = service_card["load_balancer"]
    assert target_group["deregistration_delay"] == str(lb["deregistration_delay_seconds"])
    health = target_group["health_check"][0]
    assert health["interval"] == lb["health_check"]["interval_seconds"]
    assert health["timeout"] == lb["health_check"]["timeout_seconds"]
    assert health["healthy_threshold"] == lb["health_check"]["healthy_threshold"]
    assert health["unhealthy_threshold"] == lb["health_check"]["unhealthy_threshold"]
    assert _one(plans["root"], "module.alb.aws_lb.this")["idle_timeout"] == lb["idle_timeout_seconds"]


def test_listeners_are_https_with_the_cards_tls13_policy_or_redirect_only(plans, service_card):
    listeners = {rc["address"]: rc["change"]["after"] for rc in _changes(plans["root"], "aws_lb_listener")}
    assert len(listeners) == 2
    for address, listener in listeners.items():
        if listener["protocol"] == "HTTPS":
            assert listener["ssl_policy"] == service_card["load_balancer"]["tls_policy"], address
            assert listener["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-"), address
        else:
            actions = listener["default_action"]
            assert [a["type"] for a in actions] == ["redirect"], address
            assert actions[0]["redirect"][0]["protocol"] == "HTTPS", address


def test_deploy_role_trusts_the_exact_subject_and_audience(plans):
    repository = _tfvar(plans, "github_repository")
    trust = json.loads(_one(plans["root"], "module.github_oidc.aws_iam_role.deploy")["assume_role_policy"])
    (statement,) = trust["Statement"]
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            # The root's default (the example tfvars leave it): the deploy job runs in the
            # `production` environment, and GitHub issues this subject to it.
            "token.actions.githubusercontent.com:sub": f"repo:{repository}:environment:production",
        }
    }


def test_deploy_permissions_name_the_one_repository_and_cluster(plans, service_card):
    account = _tfvar(plans, "account_id")
    region = _tfvar(plans, "region")
    environment = _tfvar(plans, "environment")
    policy = json.loads(_one(plans["root"], "module.github_oidc.aws_iam_role_policy.deploy")["policy"])
    resources = {r for s in policy["Statement"] for r in _as_list(s["Resource"])}
    assert resources == {
        "*",
        f"arn:aws:ecr:{region}:{account}:repository/{service_card['name']}",
        f"arn:aws:eks:{region}:{account}:cluster/{service_card['name']}-{environment}",
        # The listeners of the one load balancer; a tag condition narrows them to the HTTPS one
        # (tests/contracts/test_canary_traffic_contract.py).
        f"arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{service_card['name']}-{environment}/*",
    }
    # No EKS access policy: the namespaced Role derived from the deployed kinds is all it gets.
    assert not [
        rc
        for rc in plans["root"]["resource_changes"]
        if rc["address"].startswith("module.github_oidc.aws_eks_access_policy_association")
    ]
    entry = _one(plans["root"], "module.github_oidc.aws_eks_access_entry.deploy")
    assert entry["kubernetes_groups"] == [service_card["deployer_group"]]


def test_no_policy_in_the_plan_allows_a_wildcard_action(plans):
    """Not even a prefix (kms:Describe*): every allowed action is spelled out."""
    assert len(list(_policy_documents(plans["root"]))) >= 15, "the plan must carry the policy documents"
    offenders = []
    for address, _type, attribute, document in _policy_documents(plans["root"]):
        for statement in _statements(document):
            if statement["Effect"] != "Allow":
                continue
            offenders += [
                f"{address}.{attribute}: {a}"
                for a in _as_list(statement["Action"])
                if a == "*" or a.endswith(":*")
            ]
    assert not offenders, offenders


# Actions IAM authorizes on no particular resource, so "*" is their only valid resource.
WITHOUT_RESOURCE_LEVEL_PERMISSIONS = {
    "ecr:GetAuthorizationToken",
    "pricing:GetProducts",
    "iam:ListInstanceProfiles",
    "kms:ListAliases",
    "cloudwatch:GetMetricData",
}


def test_star_resources_only_where_iam_offers_nothing_narrower(plans):
    """ "*" only for actions without resource-level permissions (the set above and EC2 Describe calls),
    and in key policies (where it means the key)."""
    offenders = []
    for address, resource_type, attribute, document in _policy_documents(plans["root"]):
        if resource_type == "aws_kms_key":
            continue
        for statement in _statements(document):
            if statement["Effect"] != "Allow" or "*" not in _as_list(statement.get("Resource", [])):
                continue
            actions = _as_list(statement["Action"])
            if all(a in WITHOUT_RESOURCE_LEVEL_PERMISSIONS or ":Describe" in a for a in actions):
                continue
            offenders.append(f"{address}.{attribute}: {actions}")
    assert not offenders, offenders


def _karpenter_names(plans, service_card):
    cluster = f"{service_card['name']}-{_tfvar(plans, 'environment')}"
    return cluster, f"{cluster}-karpenter-node", f"{cluster}-karpenter-interruption"


def test_karpenter_outputs_carry_the_names_the_manifests_read(plans, service_card):
    cluster, node_role, queue = _karpenter_names(plans, service_card)
    outputs = plans["root"]["planned_values"]["outputs"]
    assert outputs["cluster_name"]["value"] == cluster
    assert outputs["karpenter_node_role_name"]["value"] == node_role
    assert outputs["karpenter_interruption_queue_name"]["value"] == queue
    # The role ARN exists only once IAM has created the role; the output must still be there.
    assert "karpenter_controller_role_arn" in plans["root"]["configuration"]["root_module"]["outputs"]


def test_karpenter_controller_may_pass_only_the_node_role(plans, service_card):
    account = _tfvar(plans, "account_id")
    _cluster, node_role, _queue = _karpenter_names(plans, service_card)
    policy = json.loads(
        _one(
            plans["root"],
            'module.karpenter.module.controller_role.aws_iam_role_policy.this["karpenter-controller"]',
        )["policy"]
    )
    passing = [s for s in policy["Statement"] if "iam:PassRole" in _as_list(s["Action"])]
    assert passing == [
        {
            "Sid": "AllowPassingInstanceRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": f"arn:aws:iam::{account}:role/{node_role}",
            "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        }
    ]
    role = _one(plans["root"], "module.karpenter.module.controller_role.aws_iam_role.this")
    assert role["name"] == f"{_cluster}-karpenter-controller"


def test_karpenter_interruption_queue_is_kms_encrypted_and_fed_by_four_rules(plans, service_card):
    root = plans["root"]
    _cluster, _node_role, queue_name = _karpenter_names(plans, service_card)
    (queue,) = _changes(root, "aws_sqs_queue")
    assert queue["change"]["after"]["name"] == queue_name
    assert queue["change"]["after_unknown"].get("kms_master_key_id") is True, "SSE-KMS with the module's key"
    assert not queue["change"]["after"].get("sqs_managed_sse_enabled")
    rules = {
        rc["index"]: json.loads(rc["change"]["after"]["event_pattern"])
        for rc in _changes(root, "aws_cloudwatch_event_rule")
    }
    assert {index: pattern["detail-type"] for index, pattern in rules.items()} == {
        "spot-interruption": ["EC2 Spot Instance Interruption Warning"],
        "rebalance": ["EC2 Instance Rebalance Recommendation"],
        "state-change": ["EC2 Instance State-change Notification"],
        "scheduled-change": ["AWS Health Event"],
    }
    targets = _changes(root, "aws_cloudwatch_event_target")
    assert sorted(t["index"] for t in targets) == sorted(rules)
    assert all(t["change"]["after_unknown"].get("arn") is True for t in targets), (
        "targets are the queue's ARN"
    )
    queue_policy = json.loads(_one(root, "module.karpenter.aws_sqs_queue_policy.interruption")["policy"])
    senders = {s["Principal"]["Service"] for s in queue_policy["Statement"] if s["Effect"] == "Allow"}
    assert senders == {"events.amazonaws.com", "sqs.amazonaws.com"}


def test_karpenter_discovery_tag_is_on_the_private_subnets_and_node_security_group_only(plans):
    root = plans["root"]
    cluster = root["planned_values"]["outputs"]["cluster_name"]["value"]
    subnets = {rc["address"]: rc["change"]["after"]["tags"] for rc in _changes(root, "aws_subnet")}
    tagged = {address for address, tags in subnets.items() if "karpenter.sh/discovery" in tags}
    assert tagged == {a for a in subnets if ".private[" in a}
    assert all(subnets[a]["karpenter.sh/discovery"] == cluster for a in tagged)
    (tag,) = _changes(root, "aws_ec2_tag")
    assert (tag["change"]["after"]["key"], tag["change"]["after"]["value"]) == (
        "karpenter.sh/discovery",
        cluster,
    )
    assert tag["change"]["after_unknown"].get("resource_id") is True, "the cluster security group EKS creates"
    entry = _one(root, "module.karpenter.aws_eks_access_entry.node")
    assert entry["type"] == "EC2_LINUX"


def test_ecr_eks_and_logs_are_locked_down(plans):
    root = plans["root"]
    repository = _one(root, "module.ecr.aws_ecr_repository.this")
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == [{"scan_on_push": True}]
    assert repository["encryption_configuration"][0]["encryption_type"] == "KMS"
    cluster = _one(root, "module.eks.aws_eks_cluster.this")
    assert cluster["vpc_config"][0]["endpoint_public_access"] is False
    assert set(cluster["enabled_cluster_log_types"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert cluster["encryption_config"][0]["resources"] == ["secrets"]
    assert cluster["access_config"][0]["authentication_mode"] == "API"
    for group in _changes(root, "aws_cloudwatch_log_group"):
        assert group["change"]["after_unknown"].get("kms_key_id") is True, (
            f"{group['address']} must be KMS-encrypted"
        )
    topic = next(rc for rc in _changes(root, "aws_sns_topic"))
    assert topic["change"]["after_unknown"].get("kms_master_key_id") is True


def test_alarms_watch_the_service_at_their_thresholds(plans):
    alarms = {
        rc["name"]: rc["change"]["after"] for rc in _changes(plans["root"], "aws_cloudwatch_metric_alarm")
    }
    min_replicas = _tfvar(plans, "min_replicas")
    assert {name: alarm["threshold"] for name, alarm in alarms.items()} == {
        "pod_cpu": 80,
        "pod_memory": 80,
        "unhealthy_hosts": 0,
        "target_5xx_rate": 5,
        "healthy_hosts_low": min_replicas,
        "elb_5xx": 5,
        "p99_latency": 0.25,
    }
    low = {"healthy_hosts_low"}
    assert all(
        alarm["comparison_operator"] == ("LessThanThreshold" if name in low else "GreaterThanThreshold")
        for name, alarm in alarms.items()
    )


def test_the_app_role_reads_only_its_own_secret(plans, service_card):
    policy = json.loads(
        _one(
            plans["root"],
            'module.secrets.module.reader_role.aws_iam_role_policy.this["read-api-keys-secret"]',
        )["policy"]
    )
    (statement,) = policy["Statement"]
    environment = _tfvar(plans, "environment")
    assert statement["Resource"].endswith(f":secret:{service_card['name']}/{environment}/api-keys-??????")


def test_bootstrap_state_bucket_is_versioned_encrypted_and_private(plans):
    bootstrap = plans["bootstrap"]
    assert (
        _one(bootstrap, "aws_s3_bucket_versioning.state")["versioning_configuration"][0]["status"]
        == "Enabled"
    )
    encryption = _one(bootstrap, "aws_s3_bucket_server_side_encryption_configuration.state")["rule"][0]
    assert encryption["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    block = _one(bootstrap, "aws_s3_bucket_public_access_block.state")
    assert all(
        block[k]
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )


def test_a_failing_plan_names_the_problem_and_writes_no_plan_json(terraform, tmp_path, monkeypatch):  # noqa: ARG001
    copy = tmp_path / "repo"
    shutil.copytree(
        tfenv.INFRA_DIR, copy / "infra", ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "tests")
    )
    shutil.copytree(REPO_ROOT / "api", copy / "api")
    tfvars = copy / "infra" / "terraform.tfvars.example"
    tfvars.write_text(
        tfvars.read_text().replace('account_id        = "123456789012"', 'account_id        = "12"')
    )
    out = tmp_path / "plan.json"
    with pytest.raises(
        tfenv.TerraformEnvError, match=r"(?s)root plan: .*account_id must be 12 digits"
    ) as failure:
        offline_plan.offline_plan(out, tmp_path / "bootstrap-plan.json", copy / "infra")
    kept = re.search(r"working files kept in (\S+)\)", str(failure.value))
    assert kept, "a failed run must say where its emulator log is"
    shutil.rmtree(kept.group(1))
    assert not out.exists()
    assert not (tmp_path / "bootstrap-plan.json").exists()


def _configurations(module, directory):
    """(directory, module) for a configuration and every module it calls, as Terraform itself read them."""
    yield directory.resolve(), module
    for call in module.get("module_calls", {}).values():
        yield from _configurations(call["module"], directory / call["source"])


def test_every_readme_table_lists_each_variable_and_output_terraform_reads(plans):
    """Terraform's own reading of every configuration (the plan's `configuration` block), not the README
    generator's parser, against the README tables: nothing declared is missing from them."""
    found = dict(_configurations(plans["root"]["configuration"]["root_module"], tfenv.INFRA_DIR))
    bootstrap = plans["bootstrap"]["configuration"]["root_module"]
    found.update(_configurations(bootstrap, tfenv.INFRA_DIR / "bootstrap"))
    assert set(found) == {path.resolve() for path in tfenv.config_dirs()}, "a configuration no plan reads"
    for directory, module in found.items():
        readme = (directory / "README.md").read_text()
        for kind in ("variables", "outputs"):
            for name, item in module.get(kind, {}).items():
                # A name may be both an input and an output: any of its rows may carry this description.
                rows = re.findall(rf"^\| `{re.escape(name)}` \| (.*?) \|", readme, re.MULTILINE)
                described = {row.replace("\\|", "|") for row in rows}
                assert item["description"].replace("\n", " ") in described, (
                    f"{directory.name}/README.md: {kind[:-1]} {name} is not in its table with its description"
                )


def test_every_trust_policy_is_known_at_plan_time(plans):
    # EKS Pod Identity's trust names no OIDC issuer: the gates read every trust in the plan itself.
    roles = _changes(plans["root"], "aws_iam_role")
    assert len(roles) >= 10, "the plan must carry the roles"
    for rc in roles:
        assert rc["change"]["after_unknown"].get("assume_role_policy") is not True, rc["address"]
        assert json.loads(rc["change"]["after"]["assume_role_policy"])["Statement"], rc["address"]


def test_in_cluster_roles_use_pod_identity_one_association_per_service_account(plans):
    plan, account = plans["root"], _tfvar(plans, "account_id")
    cluster = _one(plan, "module.eks.aws_eks_cluster.this")["name"]
    trusted = {}
    for rc in _changes(plan, "aws_iam_role"):
        (statement,) = _statements(json.loads(rc["change"]["after"]["assume_role_policy"]))
        if statement["Principal"] != {"Service": "pods.eks.amazonaws.com"}:
            continue
        assert sorted(_as_list(statement["Action"])) == ["sts:AssumeRole", "sts:TagSession"], rc["address"]
        tags = statement["Condition"]["StringEquals"]
        assert tags["aws:SourceAccount"] == account, rc["address"]
        assert tags["aws:RequestTag/eks-cluster-arn"].endswith(f":{account}:cluster/{cluster}"), rc["address"]
        trusted[rc["address"]] = (
            tags["aws:RequestTag/kubernetes-namespace"],
            tags["aws:RequestTag/kubernetes-service-account"],
        )
    assert sorted(trusted.values()) == [
        ("amazon-cloudwatch", "cloudwatch-agent"),
        ("karpenter", "karpenter"),
        ("kube-system", "aws-load-balancer-controller"),
        ("kube-system", "aws-node"),
        ("predictor", "predictor"),
    ]
    associated = [
        (after["namespace"], after["service_account"])
        for after in (rc["change"]["after"] for rc in _changes(plan, "aws_eks_pod_identity_association"))
    ] + [
        (namespace, one["service_account"])
        for name, namespace in (("vpc_cni", "kube-system"), ("cloudwatch_observability", "amazon-cloudwatch"))
        for one in _one(plan, f"module.eks.aws_eks_addon.{name}")["pod_identity_association"]
    ]
    assert sorted(associated) == sorted(trusted.values()), "each service account is associated exactly once"
    assert [
        p["url"] for p in (rc["change"]["after"] for rc in _changes(plan, "aws_iam_openid_connect_provider"))
    ] == ["https://token.actions.githubusercontent.com"], "GitHub's is the only OIDC provider left"


def test_node_roles_keep_only_what_the_kubelet_needs(plans):
    cni = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
    holders = [
        rc["change"]["after"]["role"]
        for rc in _changes(plans["root"], "aws_iam_role_policy_attachment")
        if rc["change"]["after"]["policy_arn"] == cni
    ]
    cluster = _one(plans["root"], "module.eks.aws_eks_cluster.this")["name"]
    assert holders == [f"{cluster}-vpc-cni"], f"{cni} is attached to {holders}"
