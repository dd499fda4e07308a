"""The ServiceAccount the service's IRSA role trusts is the one dist/ creates, annotates with that role,
and runs the pods as. (The other IRSA roles trust the add-ons' and controllers' own accounts.)"""

from __future__ import annotations

import pytest

from tests.contracts.conftest import broken, module_input, one

pytestmark = [pytest.mark.slow, pytest.mark.system]


def check_roles_trust_the_service_account(plan: dict, objects: list[dict]) -> None:
    # The role the ServiceAccount is annotated with is output app_role_arn: the API keys' reader role.
    root = plan["configuration"]["root_module"]
    assert root["outputs"]["app_role_arn"]["expression"]["references"][0] == "module.secrets.role_arn"
    secrets_outputs = root["module_calls"]["secrets"]["module"]["outputs"]
    assert secrets_outputs["role_arn"]["expression"]["references"][0] == "module.reader_role.arn"
    role = ("secrets", "reader_role")
    trusted = (module_input(plan, role, "namespace"), module_input(plan, role, "service_account"))
    account = one(objects, "ServiceAccount")["metadata"]
    assert trusted == (account["namespace"], account["name"]), f"the app role trusts {trusted}"
    assert account["annotations"]["eks.amazonaws.com/role-arn"], "the ServiceAccount names no role"
    deployment = one(objects, "Deployment")
    assert deployment["metadata"]["namespace"] == account["namespace"]
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["name"]


def test_the_app_role_trusts_the_service_account_dist_creates(plans, dist):
    check_roles_trust_the_service_account(plans["root"], dist)


@pytest.mark.parametrize(
    ("break_plan", "break_dist"),
    [
        (lambda p: p["planned_values"]["outputs"]["service_account"].update(value="other"), None),
        (lambda p: p["planned_values"]["outputs"]["namespace"].update(value="default"), None),
        (
            lambda p: p["configuration"]["root_module"]["outputs"]["app_role_arn"]["expression"].update(
                references=["module.eks.cloudwatch_agent_role_arn"]
            ),
            None,
        ),
        (None, lambda d: one(d, "ServiceAccount")["metadata"].update(name="other")),
        (
            None,
            lambda d: one(d, "Deployment")["spec"]["template"]["spec"].update(serviceAccountName="default"),
        ),
    ],
    ids=[
        "role-trusts-another-account",
        "role-in-another-namespace",
        "annotated-with-another-role",
        "other-account",
        "pods-run-as-another",
    ],
)
def test_the_service_account_contract_fails_on_a_broken_side(plans, dist, break_plan, break_dist):
    plan = broken(plans["root"], break_plan) if break_plan else plans["root"]
    objects = broken(dist, break_dist) if break_dist else dist
    with pytest.raises(AssertionError):
        check_roles_trust_the_service_account(plan, objects)
