"""The deploy job reaches the cluster it deploys to: deploy.yml runs on the CodeBuild runner infra/
provisions, the runner sits in the cluster's VPC and private subnets, the cluster serves its API on a private
endpoint, and the group on the endpoint's interfaces admits the runner's group on 443 (which the runner may
send to).

Each side is read, never typed: the project, groups, rules and wiring from the offline plan, the runs-on
label from the workflow. Every check also runs on a copy broken in the one way it exists to catch.
"""

from __future__ import annotations

import pytest
import yaml

from tests.support.sides import (
    after,
    broken,
    change,
    module_call,
    output_source,
    references,
    resource_config,
    wired,
)
from tools.common import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.system]

PROJECT = "module.deploy_runner.aws_codebuild_project.runner"
CLUSTER = "module.eks.aws_eks_cluster.this"
API_RULE = "module.deploy_runner.aws_vpc_security_group_ingress_rule.cluster_api_from_runner"
RUNNER_EGRESS = "module.deploy_runner.aws_vpc_security_group_egress_rule.https"
RUNNER_SG = "aws_security_group.runner.id"
HTTPS = 443


def _deploy_runs_on() -> str:
    workflow = yaml.safe_load(
        (REPO_ROOT / ".github" / "workflows" / "deploy.yml").read_text(encoding="utf-8")
    )
    return workflow["jobs"]["deploy"]["runs-on"]


def check_deploy_runs_on_the_provisioned_runner(plan: dict, runs_on: str) -> None:
    name = after(plan, PROJECT)["name"]
    outputs = plan["planned_values"]["outputs"]
    label = outputs["deploy_runner_label"]["value"]
    assert label == f"codebuild-{name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"
    # deploy.yml names the project through the repository variable set from this output.
    assert outputs["deploy_runner_project"]["value"] == name
    assert runs_on.replace("${{ vars.DEPLOY_RUNNER_PROJECT }}", name) == label, "deploy.yml runs elsewhere"


def check_runner_reaches_the_private_api(plan: dict) -> None:
    # the runner: in the VPC, in its private subnets, with its own group
    project = change(plan, PROJECT)
    assert project["after_unknown"].get("vpc_config") == [
        {"security_group_ids": True, "subnets": True, "vpc_id": True}
    ], "the runner is not in the VPC"
    (vpc_config,) = resource_config(plan, "deploy_runner", "aws_codebuild_project.runner")["expressions"][
        "vpc_config"
    ]
    assert references(vpc_config["subnets"]) == ["var.subnet_ids"]
    assert RUNNER_SG in references(vpc_config["security_group_ids"])
    assert "module.network.private_subnet_ids" in wired(plan, "deploy_runner", "subnet_ids"), (
        "not private subnets"
    )
    # the cluster: the same VPC, an API endpoint inside it, none open to the internet
    assert wired(plan, "deploy_runner", "vpc_id") == wired(plan, "eks", "vpc_id"), (
        "the runner is in another VPC"
    )
    (cluster_vpc,) = after(plan, CLUSTER)["vpc_config"]
    assert cluster_vpc["endpoint_private_access"] is True, "the cluster API has no endpoint in the VPC"
    public_cidrs = plan["variables"]["eks_public_access_cidrs"]["value"]
    assert cluster_vpc["endpoint_public_access"] is bool(public_cidrs)
    assert "0.0.0.0/0" not in public_cidrs, "the cluster API is open to the internet"
    # the path: the endpoint's group admits the runner's group on 443, and the runner may send there
    rule = after(plan, API_RULE)
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", HTTPS, HTTPS)
    assert rule.get("cidr_ipv4") is None, "the cluster API must admit the runner, not a network"
    rule_config = resource_config(
        plan, "deploy_runner", "aws_vpc_security_group_ingress_rule.cluster_api_from_runner"
    )
    assert RUNNER_SG in references(rule_config["expressions"]["referenced_security_group_id"])
    assert references(rule_config["expressions"]["security_group_id"]) == ["var.cluster_security_group_id"]
    assert "module.eks.cluster_security_group_id" in wired(plan, "deploy_runner", "cluster_security_group_id")
    # EKS puts its cluster security group on the API endpoint's network interfaces.
    assert "aws_eks_cluster.this.vpc_config[0].cluster_security_group_id" in output_source(
        plan, "eks", "cluster_security_group_id"
    )
    egress = after(plan, RUNNER_EGRESS)
    assert egress["ip_protocol"] == "tcp", "the runner may not send TCP"
    assert egress["from_port"] <= HTTPS <= egress["to_port"], "the runner may not send to 443"


def test_deploy_runs_on_the_runner_infra_provisions(plans):
    check_deploy_runs_on_the_provisioned_runner(plans["root"], _deploy_runs_on())


def test_the_runs_on_check_fails_for_a_hosted_runner(plans):
    with pytest.raises(AssertionError):
        check_deploy_runs_on_the_provisioned_runner(plans["root"], "ubuntu-latest")


def test_the_runner_reaches_the_private_cluster_api(plans):
    check_runner_reaches_the_private_api(plans["root"])


@pytest.mark.parametrize(
    "break_it",
    [
        lambda p: module_call(p, "deploy_runner")["expressions"]["subnet_ids"].update(
            references=["module.network.public_subnet_ids", "module.network"]
        ),
        lambda p: change(p, PROJECT)["after_unknown"].update(vpc_config=[]),
        lambda p: module_call(p, "deploy_runner")["expressions"]["vpc_id"].update(
            references=["var.other_vpc_id"]
        ),
        lambda p: after(p, CLUSTER)["vpc_config"][0].update(endpoint_private_access=False),
        lambda p: p["variables"]["eks_public_access_cidrs"].update(value=["0.0.0.0/0"]),
        lambda p: after(p, API_RULE).update(cidr_ipv4="0.0.0.0/0"),
        lambda p: after(p, API_RULE).update(from_port=6443, to_port=6443),
        lambda p: module_call(p, "deploy_runner")["expressions"]["cluster_security_group_id"].update(
            references=["module.alb.security_group_id", "module.alb"]
        ),
        lambda p: after(p, RUNNER_EGRESS).update(from_port=80, to_port=80),
    ],
    ids=[
        "public-subnets",
        "outside-the-vpc",
        "another-vpc",
        "no-private-endpoint",
        "world-open-endpoint",
        "open-api",
        "other-port",
        "rule-on-another-group",
        "runner-cannot-send-443",
    ],
)
def test_the_runner_check_fails_on_a_broken_plan(plans, break_it):
    with pytest.raises(AssertionError):
        check_runner_reaches_the_private_api(broken(plans["root"], break_it))
