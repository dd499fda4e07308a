"""The cluster bootstrap command against stand-in aws, helm, kubectl and terraform that record every call."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib

import pytest
import yaml

from tests.workflows.conftest import REPO_ROOT, Sandbox, index_of
from tools.cluster_bootstrap import CHARTS

pytestmark = pytest.mark.slow

MODULE = "tools.cluster_bootstrap"
RELEASES = ("aws-load-balancer-controller", "karpenter-crd", "karpenter")


def _outputs(environment: str, **overrides: object) -> dict:
    """`terraform output -json` of infra/ applied for ``environment`` (its [terraform_outputs] plus roles)."""
    toml = (REPO_ROOT / f"manifests_py/environments/{environment}.toml").read_text(encoding="utf-8")
    known = tomllib.loads(toml)["terraform_outputs"]
    account = known["account_id"]
    values = {
        "cluster_name": known["cluster_name"],
        "region": known["region"],
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "load_balancer_controller_role_arn": f"arn:aws:iam::{account}:role/lbc",
        "load_balancer_controller_service_account": {
            "namespace": "kube-system",
            "name": "aws-load-balancer-controller",
        },
        "karpenter_controller_role_arn": f"arn:aws:iam::{account}:role/karpenter",
        "karpenter_controller_service_account": {"namespace": "karpenter", "name": "karpenter"},
        "karpenter_interruption_queue_name": f"{known['cluster_name']}-interruptions",
        "metrics_path": "/metrics",
    }
    values.update(overrides)
    return {name: {"sensitive": False, "type": "string", "value": value} for name, value in values.items()}


def _run(sandbox: Sandbox, saved_outputs: dict | None, *arguments: str, **scenario: object):
    sandbox.scenario(**scenario)
    saved = sandbox.root / "outputs.json"
    if saved_outputs is not None:
        saved.write_text(json.dumps(saved_outputs), encoding="utf-8")
        arguments = (*arguments, "--outputs", str(saved))
    return sandbox.run(*arguments, module=MODULE)


def _helm_calls(sandbox: Sandbox) -> dict[str, dict]:
    """Each helm release's call: its argv and the values it was given on stdin."""
    calls = {}
    for call in sandbox.calls("helm"):
        calls[call["argv"][2]] = {"argv": call["argv"], "values": json.loads(call["stdin"])}
    return calls


def _option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.mark.parametrize("environment", ["prod", "dev"])
def test_installs_the_pinned_charts_then_applies_the_admin_manifests(sandbox, environment):
    result = _run(sandbox, _outputs(environment), "--environment", environment)

    assert result.returncode == 0, result.stderr
    commands = sandbox.commands()
    kubeconfig = index_of(commands, "aws eks update-kubeconfig")
    helm = [index_of(commands, f"helm upgrade --install {release} ") for release in RELEASES]
    wait = index_of(commands, "kubectl wait --for condition=established")
    apply = index_of(commands, "kubectl apply --server-side")
    assert [kubeconfig, *helm, wait, apply] == sorted([kubeconfig, *helm, wait, apply])
    assert "crd/nodepools.karpenter.sh" in commands[wait]
    assert "crd/ec2nodeclasses.karpenter.k8s.aws" in commands[wait]
    for release, call in _helm_calls(sandbox).items():
        chart, version, repository = CHARTS[release]
        argv = call["argv"]
        assert argv[3] == chart
        assert _option(argv, "--version") == version, release
        assert (_option(argv, "--repo") if "--repo" in argv else None) == repository
        assert {"--wait", "--create-namespace"} <= set(argv)
        assert _option(argv, "--values") == "-", "values travel on stdin, never as --set"
    # every helm and kubectl call talks to the cluster the kubeconfig step wrote
    update = sandbox.calls("aws")[0]["argv"]
    assert {call["kubeconfig"] for call in sandbox.calls() if call["tool"] in {"helm", "kubectl"}} == {
        _option(update, "--kubeconfig")
    }
    # the Namespace the deploy cannot create, then everything of dist/<env>-cluster/
    [applied] = [call["applied"] for call in sandbox.calls("kubectl") if call["argv"][0] == "apply"]
    expected = sorted(path.name for path in (REPO_ROOT / "dist" / f"{environment}-cluster").glob("*.yaml"))
    assert list(applied)[1:] == expected
    kinds = [yaml.safe_load(text)["kind"] for text in applied.values()]
    assert kinds[0] == "Namespace"
    assert {"NodePool", "EC2NodeClass"} <= set(kinds)


def test_the_helm_values_are_the_terraform_outputs(sandbox):
    outputs = _outputs("prod")
    assert _run(sandbox, outputs, "--environment", "prod").returncode == 0
    calls = _helm_calls(sandbox)
    lbc, karpenter = calls["aws-load-balancer-controller"], calls["karpenter"]

    def value(name: str) -> object:
        return outputs[name]["value"]

    assert (lbc["values"]["clusterName"], lbc["values"]["region"], lbc["values"]["vpcId"]) == (
        value("cluster_name"),
        value("region"),
        value("vpc_id"),
    )
    # Pod Identity: each controller runs as the service account its association names, unannotated
    for call, controller in ((lbc, "load_balancer_controller"), (karpenter, "karpenter_controller")):
        associated = value(f"{controller}_service_account")
        assert _option(call["argv"], "--namespace") == associated["namespace"]
        assert call["values"]["serviceAccount"] == {"name": associated["name"]}
    assert karpenter["values"]["settings"] == {
        "clusterName": value("cluster_name"),
        "interruptionQueue": value("karpenter_interruption_queue_name"),
    }
    assert {"name": "AWS_REGION", "value": value("region")} in karpenter["values"]["controller"]["env"]
    assert "--skip-crds" in karpenter["argv"], "karpenter-crd owns the CRDs"


@pytest.mark.parametrize(
    ("output", "changed", "read"),
    [
        (
            "vpc_id",
            "vpc-0ffffffffffffffff",
            lambda calls: calls["aws-load-balancer-controller"]["values"]["vpcId"],
        ),
        (
            "karpenter_controller_service_account",
            {"namespace": "autoscaling", "name": "karpenter-controller"},
            lambda calls: {
                "namespace": _option(calls["karpenter"]["argv"], "--namespace"),
                "name": calls["karpenter"]["values"]["serviceAccount"]["name"],
            },
        ),
    ],
    ids=["vpc", "service-account"],
)
def test_a_changed_output_changes_what_helm_is_given(sandbox, output, changed, read):
    assert _run(sandbox, _outputs("prod", **{output: changed}), "--environment", "prod").returncode == 0
    assert read(_helm_calls(sandbox)) == changed


def test_without_a_saved_file_it_reads_terraform_output_in_infra(sandbox):
    result = _run(sandbox, None, "--environment", "prod", outputs=_outputs("prod"))

    assert result.returncode == 0, result.stderr
    [terraform] = sandbox.calls("terraform")
    assert terraform["argv"] == [f"-chdir={REPO_ROOT / 'infra'}", "output", "-json"]
    assert index_of(sandbox.commands(), "terraform") < index_of(sandbox.commands(), "aws eks")


@pytest.mark.parametrize(
    "missing", ["karpenter_interruption_queue_name", "vpc_id", "karpenter_controller_service_account"]
)
def test_a_missing_output_fails_naming_it_and_runs_nothing(sandbox, missing):
    outputs = _outputs("prod")
    del outputs[missing]

    result = _run(sandbox, outputs, "--environment", "prod")

    assert result.returncode == 2
    assert f"{missing} is missing" in result.stderr
    assert sandbox.calls() == []


def test_outputs_of_another_apply_fail_before_anything_runs(sandbox):
    result = _run(sandbox, _outputs("dev"), "--environment", "prod")

    assert result.returncode == 2
    assert "one of them is stale" in result.stderr
    assert sandbox.calls() == []


def test_an_unreadable_outputs_file_fails_naming_it(sandbox):
    sandbox.scenario()
    result = sandbox.run("--environment", "prod", "--outputs", "absent.json", module=MODULE)

    assert result.returncode == 2
    assert "absent.json" in result.stderr
    assert sandbox.calls() == []


def test_an_unknown_environment_fails_and_runs_nothing(sandbox):
    result = _run(sandbox, _outputs("prod"), "--environment", "staging")

    assert result.returncode == 2
    assert "staging" in result.stderr
    assert "known: " in result.stderr
    assert sandbox.calls() == []


def test_a_missing_tool_fails_naming_it(sandbox):
    sandbox.scenario(tools=("aws", "kubectl"))
    saved = sandbox.root / "outputs.json"
    saved.write_text(json.dumps(_outputs("prod")), encoding="utf-8")

    result = sandbox.run("--environment", "prod", "--outputs", str(saved), module=MODULE)

    assert result.returncode == 2
    assert "helm: not found on PATH" in result.stderr
    assert sandbox.calls() == []


@pytest.mark.parametrize("failing", ["aws-load-balancer-controller", "karpenter-crd", "karpenter"])
def test_a_failing_helm_release_stops_before_kubectl_apply(sandbox, failing):
    result = _run(sandbox, _outputs("prod"), "--environment", "prod", helm_fails=failing)

    assert result.returncode == 1
    assert f"helm {failing} {CHARTS[failing][1]} failed" in result.stderr
    assert "were not run" in result.stderr
    released = [call["argv"][2] for call in sandbox.calls("helm")]
    assert released == list(RELEASES[: RELEASES.index(failing) + 1])
    assert sandbox.calls("kubectl") == []


def test_make_cluster_bootstrap_passes_the_environment_and_the_saved_outputs():
    make = shutil.which("make")
    assert make is not None, "make is not installed"
    dry_run = subprocess.run(
        [make, "--no-print-directory", "-n", "cluster-bootstrap", "ENVIRONMENT=dev", "TF_OUTPUTS=saved.json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"-m {MODULE} --environment 'dev' --outputs 'saved.json'" in dry_run
