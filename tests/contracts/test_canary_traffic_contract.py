"""A canary release reaches the canary and only it: each environment's [terraform_outputs] names the stable
and the canary target group under infra/'s output names; dist/ binds each track's pods to its own group;
infra/ plans both groups alike, the HTTPS listener weighing them 100/0, the load balancer controller allowed
to register into both, and the deploy role allowed to move the weights of that listener alone.

Each side is read, never typed: the environments through the model the deploy loads them with, the
bindings, Services and Deployments from dist/, the groups, listener, policies and outputs from the
offline plan (which plans production). Every check also fails on a copy broken in the way it exists to
catch.
"""

from __future__ import annotations

import json

import pytest
import yaml

from manifests_py.config import load_environment
from tests.support.sides import (
    after,
    broken,
    change,
    of_kind,
    output_source,
    references,
    resource_config,
)
from tools.common import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.system]

DIST = REPO_ROOT / "dist"
GROUPS = {track: f'aws_lb_target_group.track["{track}"]' for track in ("stable", "canary")}
CANARY_GROUP = f"module.alb.{GROUPS['canary']}"
# [terraform_outputs] key (the root output of the same name) -> the module.alb output -> its resource.
OUTPUTS = {
    "target_group_arn": ("target_group_arn", 'aws_lb_target_group.track["stable"].arn'),
    "canary_target_group_arn": ("canary_target_group_arn", 'aws_lb_target_group.track["canary"].arn'),
    "https_listener_arn": ("https_listener_arn", "aws_lb_listener.https.arn"),
    "alb_arn_suffix": ("alb_arn_suffix", "aws_lb.this.arn_suffix"),
    "canary_target_group_arn_suffix": (
        "canary_target_group_arn_suffix",
        'aws_lb_target_group.track["canary"].arn_suffix',
    ),
}
HTTPS, HTTP = "module.alb.aws_lb_listener.https", "module.alb.aws_lb_listener.http"
CONTROLLER_POLICY = (
    'module.eks.module.load_balancer_controller_role.aws_iam_role_policy.this["target-group-binding"]'
)


def configured() -> dict[str, dict[str, str]]:
    """Each EKS environment's target groups by track, as the deploy loads them."""
    groups = {}
    for name in ("dev", "prod"):
        outputs = load_environment(name).terraform_outputs
        groups[name] = {"stable": outputs.target_group_arn, "canary": outputs.canary_target_group_arn}
    return groups


def _name(arn: str) -> str:
    return arn.rsplit(":", maxsplit=1)[-1].split("/")[1]


def folders() -> dict[str, list[dict]]:
    """dist/'s objects by environment folder."""
    return {
        name: [
            d for p in sorted((DIST / name).glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d
        ]
        for name in ("dev", "prod")
    }


def check_bindings(by_folder: dict[str, list[dict]], groups: dict[str, dict[str, str]]) -> None:
    for environment, objects in by_folder.items():
        check_folder(objects, {environment: groups[environment]})


def check_folder(objects: list[dict], groups: dict[str, dict[str, str]]) -> None:
    """Each track's pods, and only they, are bound to the group its environment names for that track."""
    bound: dict[str, str] = {}
    for binding in of_kind(objects, "TargetGroupBinding"):
        namespace, spec = binding["metadata"]["namespace"], binding["spec"]
        (service,) = [
            s
            for s in of_kind(objects, "Service")
            if (s["metadata"]["namespace"], s["metadata"]["name"]) == (namespace, spec["serviceRef"]["name"])
        ]
        selected = {
            d["spec"]["template"]["metadata"]["labels"].get("track")
            for d in of_kind(objects, "Deployment")
            if d["metadata"]["namespace"] == namespace
            and service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        }
        assert len(selected) == 1, f"{service['metadata']['name']} selects pods of tracks {selected}"
        bound[spec["targetGroupARN"]] = selected.pop()
    for environment, arns in groups.items():
        for track, arn in arns.items():
            assert bound.get(arn) == track, (
                f"{environment}'s {track} group {arn} is bound to {bound.get(arn)}"
            )


def test_each_track_is_bound_to_the_group_its_environment_names():
    check_bindings(folders(), configured())


def check_plan(plan: dict, groups: dict[str, str]) -> None:
    """infra/ plans the two groups the environment names, alike but for their names, weighed 100/0 by the
    HTTPS listener, registered into by the controller, and shifted between by the deploy role only there."""
    planned = {track: after(plan, f"module.alb.{address}") for track, address in GROUPS.items()}
    for track, arn in groups.items():
        assert planned[track]["name"] == _name(arn), (
            f"the {track} group is {planned[track]['name']} in infra/"
        )
    fields = ("port", "protocol", "target_type", "health_check", "deregistration_delay")
    assert {f: planned["canary"][f] for f in fields} == {f: planned["stable"][f] for f in fields}, (
        "the canary is judged or drained differently from the stable pods"
    )
    outputs = plan["configuration"]["root_module"]["outputs"]
    for name, (module_output, resource) in OUTPUTS.items():
        assert f"module.alb.{module_output}" in references(outputs[name]["expression"]), f"output {name}"
        assert resource in output_source(plan, "alb", module_output), f"module.alb's {module_output}"
    # The weights at rest, read from the configuration (the groups' ARNs are unknown until apply).
    (action,) = resource_config(plan, "alb", "aws_lb_listener.https")["expressions"]["default_action"]
    weights = {
        references(g["arn"])[0]: g["weight"]["constant_value"] for g in action["forward"][0]["target_group"]
    }
    assert weights == {f"{GROUPS['stable']}.arn": 100, f"{GROUPS['canary']}.arn": 0}, weights
    registrable = json.loads(after(plan, CONTROLLER_POLICY)["policy"])
    (register,) = [
        s for s in registrable["Statement"] if "elasticloadbalancing:RegisterTargets" in s["Action"]
    ]
    for track, arn in groups.items():
        group = f":targetgroup/{_name(arn)}/*"
        assert any(r.endswith(group) for r in register["Resource"]), (
            f"the controller cannot register {track} pods"
        )
    deploy = json.loads(after(plan, "module.github_oidc.aws_iam_role_policy.deploy")["policy"])
    (shift,) = [s for s in deploy["Statement"] if s["Action"] == "elasticloadbalancing:ModifyListener"]
    required = {k.removeprefix("aws:ResourceTag/"): v for k, v in shift["Condition"]["StringEquals"].items()}
    assert required, "the deploy role may modify every listener of the load balancer"
    assert required.items() <= (after(plan, HTTPS)["tags"] or {}).items(), "the HTTPS listener lacks the tag"
    assert not required.items() <= (after(plan, HTTP)["tags"] or {}).items(), "the redirect could be modified"
    assert f":listener/app/{after(plan, 'module.alb.aws_lb.this')['name']}/" in shift["Resource"]


def test_infra_plans_the_groups_the_environment_names_and_lets_the_release_weigh_them(plans):
    check_plan(plans["root"], configured()["prod"])


def _retarget(by_folder: dict[str, list[dict]], name: str, arn: str) -> None:
    for binding in of_kind(by_folder["prod"], "TargetGroupBinding"):
        if binding["metadata"]["name"] == name:
            binding["spec"]["targetGroupARN"] = arn


def _swap(groups: dict[str, dict[str, str]]) -> None:
    groups["prod"] = {"stable": groups["prod"]["canary"], "canary": groups["prod"]["stable"]}


@pytest.mark.parametrize(
    ("break_objects", "break_groups"),
    [
        (lambda o: _retarget(o, "predictor-canary", configured()["prod"]["stable"]), None),
        (
            lambda o: [
                s["spec"]["selector"].pop("app.kubernetes.io/name") for s in of_kind(o["dev"], "Service")
            ],
            None,
        ),
        (None, _swap),
    ],
    ids=["canary-bound-to-stable", "service-selects-both-tracks", "environment-swaps-the-groups"],
)
def test_the_binding_check_fails_when_one_side_moves(break_objects, break_groups):
    objects, groups = folders(), configured()
    for break_it, side in ((break_objects, objects), (break_groups, groups)):
        if break_it:
            break_it(side)
    with pytest.raises(AssertionError):
        check_bindings(objects, groups)


def _edit_policy(address: str, action: str, edit):
    def break_it(plan: dict) -> None:
        policy = after(plan, address)
        document = json.loads(policy["policy"])
        edit(next(s for s in document["Statement"] if action in s["Action"]))
        policy["policy"] = json.dumps(document)

    return break_it


def plan_output(plan: dict, name: str, reference: str) -> None:
    plan["configuration"]["root_module"]["outputs"][name]["expression"] = {"references": [reference]}


def _weights(plan: dict) -> list[dict]:
    (action,) = resource_config(plan, "alb", "aws_lb_listener.https")["expressions"]["default_action"]
    return action["forward"][0]["target_group"]


@pytest.mark.parametrize(
    "break_it",
    [
        lambda p: after(p, CANARY_GROUP).update(name="predictor-prod-next"),
        lambda p: after(p, CANARY_GROUP).update(port=9000),
        lambda p: change(p, CANARY_GROUP)["after"]["health_check"][0].update(path="/health"),
        lambda p: plan_output(p, "canary_target_group_arn", "module.alb.target_group_arn"),
        lambda p: plan_output(p, "https_listener_arn", "module.alb.http_listener_arn"),
        lambda p: _weights(p)[1].update(weight={"constant_value": 100}),
        _edit_policy(
            CONTROLLER_POLICY,
            "elasticloadbalancing:RegisterTargets",
            lambda s: s.update(Resource=s["Resource"][:1]),
        ),
        _edit_policy(
            "module.github_oidc.aws_iam_role_policy.deploy",
            "elasticloadbalancing:ModifyListener",
            lambda s: s.update(Condition={"StringEquals": {"aws:ResourceTag/TrafficWeightedBy": "anyone"}}),
        ),
        _edit_policy(
            "module.github_oidc.aws_iam_role_policy.deploy",
            "elasticloadbalancing:ModifyListener",
            lambda s: s.update(Condition={"StringEquals": {}}),
        ),
        lambda p: after(p, HTTP).update(tags={"TrafficWeightedBy": "release"}),
    ],
    ids=[
        "canary-group-renamed",
        "canary-group-other-port",
        "canary-group-other-health-check",
        "canary-output-is-stable",
        "listener-output-is-the-redirect",
        "canary-weighted-100-at-rest",
        "controller-cannot-register-canary",
        "deploy-tag-other-value",
        "deploy-any-listener",
        "redirect-listener-tagged",
    ],
)
def test_the_plan_check_fails_on_a_broken_plan(plans, break_it):
    with pytest.raises(AssertionError):
        check_plan(broken(plans["root"], break_it), configured()["prod"])


def test_the_plan_check_fails_when_the_environment_names_other_groups(plans):
    groups = configured()["prod"]
    groups["canary"] = groups["canary"].replace("-canary/", "-next/")
    assert groups["canary"] != configured()["prod"]["canary"]
    with pytest.raises(AssertionError):
        check_plan(plans["root"], groups)


def check_named_like_the_outputs(plan: dict, fields: set[str]) -> None:
    """What the deploy reads from an environment is named as infra/ outputs it: filled from `terraform
    output`, never mapped by hand."""
    missing = sorted((fields | OUTPUTS.keys()) - plan["configuration"]["root_module"]["outputs"].keys())
    assert not missing, f"[terraform_outputs] names no output of infra/: {missing}"


def test_the_environment_names_what_the_release_reads_like_the_outputs(plans):
    outputs = type(load_environment("prod").terraform_outputs)
    fields = {*outputs.model_fields, *(n for n in vars(outputs) if isinstance(getattr(outputs, n), property))}
    assert OUTPUTS.keys() <= fields, "the release cannot load what it needs from the environment"
    check_named_like_the_outputs(plans["root"], fields)
    with pytest.raises(AssertionError):
        check_named_like_the_outputs(plans["root"], {*fields, "listener_arn"})
