"""Install in the cluster what dist/ needs and no EKS add-on provides, with values from `terraform output`.

The AWS Load Balancer Controller, Karpenter's CRDs and Karpenter; then what the deploy leaves to an admin
(the Namespace of dist/<env>/, all of dist/<env>-cluster/), server-side. Inputs are checked first.
Exit status: 0 done; 2 bad input, nothing was run; 1 a step failed, later steps were not run."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from manifests_py.config import ConfigError, load_environment
from tools.common import REPO_ROOT
from tools.deploy import DeployError, sh
from tools.deploy.cluster import read_manifests

Values = dict[str, Any]
Release = tuple[str, str, Values]  # (release, namespace, chart values)
KARPENTER_VERSION = "1.9.4"
EKS_CHARTS = "https://aws.github.io/eks-charts"
# release -> (chart, pinned version, repository): the only place the versions are written.
CHARTS = {
    "aws-load-balancer-controller": ("aws-load-balancer-controller", "1.17.0", EKS_CHARTS),
    "karpenter-crd": ("oci://public.ecr.aws/karpenter/karpenter-crd", KARPENTER_VERSION, None),
    "karpenter": ("oci://public.ecr.aws/karpenter/karpenter", KARPENTER_VERSION, None),
}
KARPENTER_CRDS = ("crd/nodepools.karpenter.sh", "crd/ec2nodeclasses.karpenter.k8s.aws")


def read_outputs(saved: Path | None) -> Values:
    """``saved`` or `terraform output -json` in infra/, as name -> value (empty values left out)."""
    try:
        if saved:
            text = saved.read_text(encoding="utf-8")
        else:
            infra = f"-chdir={REPO_ROOT / 'infra'}"
            text = sh(["terraform", infra, "output", "-json"], what="terraform output").stdout
        values = {name: output["value"] for name, output in json.loads(text).items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise ConfigError([f"terraform outputs: {error}"]) from error
    return {name: value for name, value in values.items() if value not in (None, "", {})}


def releases(out: Values) -> list[Release]:
    """(release, namespace, values) in install order, each controller as the service account its Pod
    Identity association names (no annotation); KeyError names a missing output."""

    def account(controller: str) -> tuple[str, Values]:
        associated = out[f"{controller}_service_account"]
        return associated["namespace"], {"serviceAccount": {"name": associated["name"]}}

    lbc_namespace, lbc = account("load_balancer_controller")
    namespace, karpenter = account("karpenter_controller")
    # Pods cannot reach the instance metadata (IMDSv2, hop limit 1): region and VPC are given.
    lbc |= {"clusterName": out["cluster_name"], "region": out["region"], "vpcId": out["vpc_id"]}
    queue = out["karpenter_interruption_queue_name"]
    karpenter["settings"] = {"clusterName": out["cluster_name"], "interruptionQueue": queue}
    # Requests equal limits: the controller that adds capacity under pressure must be the last starved.
    size, region = {"cpu": "1", "memory": "1Gi"}, [{"name": "AWS_REGION", "value": out["region"]}]
    karpenter["controller"] = {"resources": {"requests": size, "limits": size}, "env": region}
    return [
        ("aws-load-balancer-controller", lbc_namespace, lbc),
        ("karpenter-crd", namespace, {}),
        ("karpenter", namespace, karpenter),
    ]


def resolve(environment: str, saved: Path | None) -> tuple[Values, list[Release], list[Path]]:
    config = load_environment(environment)
    tools = ["aws", "helm", "kubectl"] + ([] if saved else ["terraform"])
    if missing := [tool for tool in tools if shutil.which(tool) is None]:
        raise ConfigError([f"{tool}: not found on PATH" for tool in missing])
    out = read_outputs(saved)
    try:
        charts = releases(out)
    except KeyError as error:
        raise ConfigError([f"terraform outputs: {error.args[0]} is missing (apply infra/ first)"]) from error
    expected = (config.terraform_outputs.cluster_name, config.terraform_outputs.region)
    if (out["cluster_name"], out["region"]) != expected:
        msg = f"terraform outputs are for {out['cluster_name']} in {out['region']}, environment {environment}"
        raise ConfigError([f"{msg} for {expected[0]} in {expected[1]}: one of them is stale"])
    # What the deploy leaves to an admin (it applies namespaced objects only), then the admin folder.
    folder = REPO_ROOT / "dist" / config.name
    admin = sorted(folder.with_name(f"{config.name}-cluster").glob("*.yaml"))
    if not admin:
        raise ConfigError([f"dist/{config.name}-cluster/: no manifests (run `make synth`)"])
    by_deploy = read_manifests(folder).files
    return out, charts, [path for path in sorted(folder.glob("*.yaml")) if path not in by_deploy] + admin


def bootstrap(out: Values, charts: list[Release], files: list[Path]) -> None:
    with tempfile.TemporaryDirectory(prefix="cluster-bootstrap-") as scratch:
        env = {"KUBECONFIG": str(Path(scratch) / "kubeconfig")}
        update = ["aws", "eks", "update-kubeconfig", "--name", out["cluster_name"], "--region", out["region"]]
        sh([*update, "--kubeconfig", env["KUBECONFIG"]], what="aws eks update-kubeconfig")
        for release, namespace, values in charts:
            chart, version, repository = CHARTS[release]
            command = ["helm", "upgrade", "--install", release, chart, "--version", version]
            command += (["--repo", repository] if repository else []) + ["--namespace", namespace]
            # karpenter-crd owns Karpenter's CRDs: Helm never upgrades a chart's crds/ folder.
            command += ["--skip-crds"] if release == "karpenter" else []
            command += ["--create-namespace", "--wait", "--timeout", "10m", "--values", "-"]
            sh(command, what=f"helm {release} {version}", stdin=json.dumps(values), env=env, timeout=900)
        wait = ["kubectl", "wait", "--for", "condition=established", "--timeout", "120s", *KARPENTER_CRDS]
        sh(wait, what="waiting for Karpenter's CRDs", env=env, timeout=180)
        apply = ["kubectl", "apply", "--server-side", "--field-manager", "cluster-bootstrap"]
        apply += [argument for path in files for argument in ("--filename", str(path))]
        sh(apply, what="kubectl apply", env=env, show=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.cluster_bootstrap", description=__doc__)
    parser.add_argument("--environment", required=True, help="manifests_py/environments/NAME.toml, e.g. prod")
    parser.add_argument("--outputs", type=Path, help="a saved `terraform output -json` (default: run it)")
    args = parser.parse_args(argv)
    try:
        out, charts, files = resolve(args.environment, args.outputs)
    except (ConfigError, DeployError) as error:
        problems = getattr(error, "problems", None) or [str(error)]
        sys.stderr.write("".join(f"error: {problem}\n" for problem in problems) + "error: nothing was run\n")
        return 2
    try:
        bootstrap(out, charts, files)
    except DeployError as error:
        sys.stderr.write(f"error: {error}\nerror: the steps after it were not run\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
