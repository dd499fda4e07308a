"""Deploy the service to one environment: the deploy workflow's logic, runnable by hand.

Phases, one subcommand each (``all`` runs publish, scan and release in order):

  validate  check every input and tool of every phase, print what would be deployed; run nothing
  publish   build the image and push it to ECR tagged with the commit SHA (tags are immutable, so an
            image already pushed for that SHA is reused, never rebuilt)
  scan      wait for ECR's scan of that image; fail on CRITICAL or HIGH findings
  release   re-check the scan gate, synthesize the manifests with the pushed digest, apply them, wait for
            ``kubectl rollout status``, then smoke-test the HTTPS endpoint; when the apply, the rollout
            (failure or timeout) or the smoke test fails, ``kubectl rollout undo`` to the revision that
            was serving, wait for it, and fail

Inputs, each a flag or an environment variable (the flag wins):

  --environment    DEPLOY_ENVIRONMENT       manifests environment: manifests_py/environments/NAME.toml,
                                            read through manifests_py.config (ECR repository, region)
  --image-tag      IMAGE_TAG                the full 40-character commit SHA the image is tagged with
  --cluster-name   EKS_CLUSTER_NAME         EKS cluster to deploy to (release)
  --smoke-url      SMOKE_BASE_URL           https:// address the service answers on (release)
  --rollout-timeout ROLLOUT_TIMEOUT_SECONDS how long a rollout (and a rollback) may take, default 600
  AWS_REGION, when set, must agree with the environment's region.

Run it from the repository root with the project environment (``.venv/bin/python -m tools.deploy``, after
``make bootstrap``): it reads the manifests configuration and release synthesizes with it. Credentials
are the caller's (the workflow assumes the deploy role through OIDC).

Exit status: 0 deployed (or valid); 2 an input or tool is missing or malformed, nothing was run; 1 a phase
failed, and the message says what was rolled back.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tools.deploy.cluster import Cluster, read_manifests
from tools.deploy.ecr import Registry
from tools.deploy.inputs import PHASES_BY_COMMAND, InputError, Inputs, resolve_inputs
from tools.deploy.shell import DeployError, Shell, say
from tools.deploy.smoke import smoke_test

EXIT_FAILED = 1
EXIT_INVALID = 2
_BUILD_TIMEOUT_SECONDS = 1800


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.deploy",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("command", choices=tuple(PHASES_BY_COMMAND))
    parser.add_argument("--environment", help="manifests environment (DEPLOY_ENVIRONMENT)")
    parser.add_argument("--image-tag", help="full commit SHA the image is tagged with (IMAGE_TAG)")
    parser.add_argument("--cluster-name", help="EKS cluster (EKS_CLUSTER_NAME)")
    parser.add_argument("--smoke-url", help="https:// base URL of the service (SMOKE_BASE_URL)")
    parser.add_argument("--rollout-timeout", help="seconds a rollout may take (ROLLOUT_TIMEOUT_SECONDS)")
    parser.add_argument("--role-arn", help="validate only: the role the workflow will assume")
    return parser


def publish(shell: Shell, inputs: Inputs) -> str:
    registry = Registry(shell, inputs.target)
    reference = f"{inputs.target.repository_url}:{inputs.image_tag}"
    existing = registry.digest_of(inputs.image_tag)
    if existing is not None:
        say(f"{reference} is already in ECR as {existing}; tags are immutable, so it is not rebuilt")
        return existing
    registry.log_in()
    shell.check(
        [
            "make",
            "--no-print-directory",
            "image",
            f"IMAGE_REPOSITORY={inputs.target.repository_url}",
            f"IMAGE_TAG={inputs.image_tag}",
        ],
        what="make image",
        show=True,
        timeout=_BUILD_TIMEOUT_SECONDS,
    )
    shell.check(
        ["docker", "push", reference],
        what=f"docker push {reference}",
        show=True,
        timeout=_BUILD_TIMEOUT_SECONDS,
    )
    digest = registry.require_digest(inputs.image_tag)
    say(f"pushed {reference} as {inputs.target.repository_url}@{digest}")
    return digest


def scan(shell: Shell, inputs: Inputs) -> str:
    registry = Registry(shell, inputs.target)
    digest = registry.require_digest(inputs.image_tag)
    registry.scan_gate(digest)
    return digest


def release(shell: Shell, inputs: Inputs) -> None:
    target = inputs.target
    if inputs.cluster_name is None or inputs.smoke_url is None:  # resolve_inputs requires both for release
        msg = "release needs a cluster name and a smoke URL"
        raise DeployError(msg)
    registry = Registry(shell, target)
    digest = registry.require_digest(inputs.image_tag)
    # Whoever runs release, the image it deploys has passed the scan gate.
    registry.scan_gate(digest)
    image = f"{target.repository_url}@{digest}"
    with tempfile.TemporaryDirectory(prefix="deploy-") as scratch:
        work = Path(scratch)
        out = work / "manifests"
        shell.check(
            [
                sys.executable,
                "-m",
                "manifests_py",
                "--quiet",
                "--out",
                str(out),
                "--environment",
                target.environment,
                "--image",
                image,
            ],
            what="synthesizing the manifests",
        )
        manifests = read_manifests(out / target.environment)
        others = sorted(f"{folder.name}/" for folder in out.iterdir() if folder.name != target.environment)
        if manifests.skipped or others:
            say(
                "not applied (cluster-scoped; the deploy role edits namespace "
                f"{manifests.namespace} only, a cluster admin applies these): "
                + ", ".join([*manifests.skipped, *others])
            )
        kubeconfig = work / "kubeconfig"
        shell.check(
            [
                "aws",
                "eks",
                "update-kubeconfig",
                "--region",
                target.region,
                "--name",
                inputs.cluster_name,
                "--kubeconfig",
                str(kubeconfig),
            ],
            what="aws eks update-kubeconfig",
        )
        cluster = Cluster(shell, kubeconfig, inputs.rollout_timeout)
        serving = {workload: cluster.revision(workload) for workload in manifests.workloads}

        def roll_back_all(reason: str) -> DeployError:
            outcomes = [cluster.roll_back(workload, revision) for workload, revision in serving.items()]
            return DeployError(f"{reason}\n" + "\n".join(f"  {outcome}" for outcome in outcomes))

        try:
            cluster.apply(manifests)
        except DeployError as error:
            raise roll_back_all(str(error)) from error
        for workload in manifests.workloads:
            if not cluster.wait(workload):
                msg = f"the rollout of {workload} failed or did not finish within {inputs.rollout_timeout} s"
                raise roll_back_all(msg)
        try:
            smoke_test(shell, inputs.smoke_url)
        except DeployError as error:
            raise roll_back_all(str(error)) from error
    say(f"released {image} to {', '.join(str(w) for w in manifests.workloads)}")


PHASES: dict[str, Callable[[Shell, Inputs], object]] = {"publish": publish, "scan": scan, "release": release}


def _report_error(message: str, environ: Mapping[str, str]) -> None:
    sys.stderr.write(f"error: {message}\n")
    if environ.get("GITHUB_ACTIONS") == "true":
        first_line = message.splitlines()[0] if message else "deploy failed"
        sys.stderr.write(f"::error title=deploy::{first_line}\n")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    try:
        inputs = resolve_inputs(_parser().parse_args(sys.argv[1:] if argv is None else argv), environ)
    except InputError as error:
        for problem in error.problems:
            _report_error(problem, environ)
        sys.stderr.write("error: nothing was run\n")
        return EXIT_INVALID
    target = inputs.target
    say(
        f"{inputs.command}: environment {target.environment}, "
        f"image {target.repository_url}:{inputs.image_tag} ({target.region})"
        + (f", cluster {inputs.cluster_name}, smoke test {inputs.smoke_url}" if inputs.cluster_name else "")
    )
    if inputs.command == "validate":
        say("inputs and tools are valid; nothing was run")
        return 0
    shell = Shell(environ)
    for phase in PHASES_BY_COMMAND[inputs.command]:
        say(f"==> {phase}")
        try:
            PHASES[phase](shell, inputs)
        except DeployError as error:
            _report_error(f"{phase}: {error}", environ)
            return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
