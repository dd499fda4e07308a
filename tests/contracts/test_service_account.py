"""Each Pod Identity association names a ServiceAccount that exists: the app's is the one dist/ creates
and runs the pods as (with no IRSA annotation left on it), the controllers' are the ones the bootstrap
installs them as (its *_service_account outputs). The add-ons' associations name their own accounts."""

from __future__ import annotations

import pytest

from tests.contracts.conftest import broken, change_after, one, output

pytestmark = [pytest.mark.slow, pytest.mark.system]

APP = "module.secrets.module.reader_role.aws_eks_pod_identity_association.this[0]"
CONTROLLERS = {
    "load_balancer_controller_service_account": (
        "module.eks.module.load_balancer_controller_role.aws_eks_pod_identity_association.this[0]"
    ),
    "karpenter_controller_service_account": (
        "module.karpenter.module.controller_role.aws_eks_pod_identity_association.this[0]"
    ),
}


def check_associations_name_the_service_accounts(plan: dict, objects: list[dict]) -> None:
    # The app's association hands out output app_role_arn: the API keys' reader role.
    root = plan["configuration"]["root_module"]
    assert root["outputs"]["app_role_arn"]["expression"]["references"][0] == "module.secrets.role_arn"
    secrets_outputs = root["module_calls"]["secrets"]["module"]["outputs"]
    assert secrets_outputs["role_arn"]["expression"]["references"][0] == "module.reader_role.arn"
    app = change_after(plan, APP)
    account = one(objects, "ServiceAccount")["metadata"]
    associated = (app["namespace"], app["service_account"])
    assert associated == (account["namespace"], account["name"]), (
        f"the app role is associated with {associated}"
    )
    assert app["cluster_name"] == output(plan, "cluster_name")
    assert "eks.amazonaws.com/role-arn" not in account.get("annotations", {}), "an IRSA annotation is left"
    deployment = one(objects, "Deployment")
    assert deployment["metadata"]["namespace"] == account["namespace"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["name"]
    for name, address in CONTROLLERS.items():
        controller = change_after(plan, address)
        bootstrapped = output(plan, name)
        assert (controller["namespace"], controller["service_account"]) == (
            bootstrapped["namespace"],
            bootstrapped["name"],
        ), f"{address} names another service account than {name}"


def test_each_association_names_the_service_account_that_is_created(plans, dist):
    check_associations_name_the_service_accounts(plans["root"], dist)


def _association(plan: dict, address: str) -> dict:
    return next(rc["change"]["after"] for rc in plan["resource_changes"] if rc["address"] == address)


@pytest.mark.parametrize(
    ("break_plan", "break_dist"),
    [
        (lambda p: _association(p, APP).update(service_account="other"), None),
        (lambda p: _association(p, APP).update(namespace="default"), None),
        (
            lambda p: p["configuration"]["root_module"]["outputs"]["app_role_arn"]["expression"].update(
                references=["module.eks.cloudwatch_agent_role_arn"]
            ),
            None,
        ),
        (
            lambda p: p["planned_values"]["outputs"]["karpenter_controller_service_account"].update(
                value={"namespace": "karpenter", "name": "other"}
            ),
            None,
        ),
        (None, lambda d: one(d, "ServiceAccount")["metadata"].update(name="other")),
        (
            None,
            lambda d: one(d, "ServiceAccount")["metadata"].update(
                annotations={"eks.amazonaws.com/role-arn": "arn:aws:iam::444455556666:role/x"}
            ),
        ),
        (
            None,
            lambda d: one(d, "Deployment")["spec"]["template"]["spec"].update(serviceAccountName="default"),
        ),
    ],
    ids=[
        "app-associated-with-another-account",
        "app-associated-in-another-namespace",
        "output-names-another-role",
        "controller-bootstrapped-as-another-account",
        "other-account",
        "irsa-annotation-left",
        "pods-run-as-another",
    ],
)
def test_the_service_account_contract_fails_on_a_broken_side(plans, dist, break_plan, break_dist):
    plan = broken(plans["root"], break_plan) if break_plan else plans["root"]
    objects = broken(dist, break_dist) if break_dist else dist
    with pytest.raises(AssertionError):
        check_associations_name_the_service_accounts(plan, objects)
