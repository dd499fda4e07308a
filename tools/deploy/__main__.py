"""Deploy the service to one environment: the deploy workflow's logic, runnable by hand.

  validate  check every input and tool of every phase, print what would be deployed; run nothing
  publish   build the image and push it to ECR tagged with the commit SHA (tags are immutable: an image
            already pushed for that SHA is reused, never rebuilt)
  scan      wait for ECR's scan of that image; fail on CRITICAL or HIGH findings
  release   re-check the scan gate, apply the manifests synthesized with the pushed digest, wait for the
            rollout, smoke-test the HTTPS endpoint; if any of these fails, roll back to the revision that
            was serving, wait for it, and fail. With a canary Deployment and a version already serving,
            the new one goes out as a canary first, through the environment's [traffic] steps: each
            shifts the listener's weights and judges the canary target group's CloudWatch numbers; a
            broken limit, a failure or SIGTERM/SIGINT puts the weights back and the canary to zero, and
            the job fails naming why
  all       publish, scan and release
  abort     put the listener's weights back on the stable target group, scale the canary to zero and
            re-apply the autoscaler (its own minimum)
            (safe to run any time, any number of times)

Each input is a flag or an environment variable (the flag wins); AWS_REGION, when set, must agree with the
environment's region. Run from the repository root after `make bootstrap`; credentials are the caller's.
Exit status: 0 deployed (or valid); 2 an input or tool is missing or malformed, nothing was run; 1 a phase
failed, and the message says what was rolled back.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from manifests_py.props import CANARY, STABLE
from tools.common import REPO_ROOT
from tools.deploy import DeployError, say, sh
from tools.deploy.alb import WeightedListener
from tools.deploy.canary import AnalysisFailed, Cancelled, StepEngine, cancellable
from tools.deploy.cluster import Autoscaler, Cluster, Manifests, Workload, hold_back, read_manifests
from tools.deploy.ecr import Registry
from tools.deploy.inputs import (
    DEFAULT_ROLLOUT_TIMEOUT_SECONDS,
    PHASES_BY_COMMAND,
    InputError,
    Inputs,
    resolve_inputs,
)
from tools.deploy.smoke import smoke_test

EXIT_FAILED = 1
EXIT_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    summary, details = (__doc__ or "\n\n").split("\n\n", 1)
    parser = argparse.ArgumentParser(
        prog="python -m tools.deploy",
        description=summary,
        epilog=details,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=tuple(PHASES_BY_COMMAND))
    add = parser.add_argument
    add(
        "--environment",
        help="manifests_py/environments/NAME.toml, the ECR repository and region (DEPLOY_ENVIRONMENT)",
    )
    add("--image-tag", help="the full 40-character commit SHA the image is tagged with (IMAGE_TAG)")
    add("--cluster-name", help="release: the EKS cluster (EKS_CLUSTER_NAME)")
    add("--smoke-url", help="release: https:// base URL the service answers on (SMOKE_BASE_URL)")
    add(
        "--rollout-timeout",
        help=f"seconds a rollout may take (ROLLOUT_TIMEOUT_SECONDS, {DEFAULT_ROLLOUT_TIMEOUT_SECONDS})",
    )
    add("--role-arn", help="validate only: the role the workflow will assume")
    return parser


def publish(inputs: Inputs) -> str:
    registry = Registry(inputs.target)
    repository = inputs.target.repository_url
    reference = f"{repository}:{inputs.image_tag}"
    existing = registry.digest_of(inputs.image_tag)
    if existing is not None:
        say(f"{reference} is already in ECR as {existing}; tags are immutable, so it is not rebuilt")
        return existing
    registry.log_in()
    make = [
        "make",
        "--no-print-directory",
        "image",
        f"IMAGE_REPOSITORY={repository}",
        f"IMAGE_TAG={inputs.image_tag}",
    ]
    sh(make, what="make image", show=True, timeout=1800)
    sh(["docker", "push", reference], what=f"docker push {reference}", show=True, timeout=1800)
    digest = registry.require_digest(inputs.image_tag)
    say(f"pushed {reference} as {repository}@{digest}")
    return digest


def scan(inputs: Inputs) -> str:
    registry = Registry(inputs.target)
    digest = registry.require_digest(inputs.image_tag)
    registry.scan_gate(digest)
    return digest


def release(inputs: Inputs) -> None:
    target = inputs.target
    # Whoever runs release, the image it deploys has passed the scan gate.
    image = f"{target.repository_url}@{scan(inputs)}"
    with tempfile.TemporaryDirectory(prefix="deploy-") as scratch:
        work = Path(scratch)
        out = work / "manifests"
        synth = [sys.executable, "-m", "manifests_py", "--quiet", "--out", str(out), "--image", image]
        sh([*synth, "--environment", target.environment], what="synthesizing the manifests")
        manifests = read_manifests(out / target.environment)
        others = sorted(f"{folder.name}/" for folder in out.iterdir() if folder.name != target.environment)
        if manifests.skipped or others:
            say(
                "not applied (cluster-scoped; the deploy role edits namespace "
                f"{manifests.namespace} only, a cluster admin applies these): "
                + ", ".join([*manifests.skipped, *others])
            )
        cluster = _cluster(inputs, work)
        # The stable first: on a cancel, its undo must be issued before the runner kills the job.
        ordered = sorted(manifests.workloads, key=lambda workload: workload.track != STABLE)
        serving = {workload: cluster.revision(workload) for workload in ordered}
        try:
            if not _canary_release(inputs, manifests, cluster):
                cluster.roll_out(manifests)
            smoke_test(inputs.smoke_url)
        except (DeployError, Cancelled) as error:
            # A cancelled job has seconds before it is killed: the undo is issued, not waited for.
            cancelled = isinstance(error, Cancelled)
            with cancellable(signal.SIG_IGN):
                outcomes = [cluster.roll_back(w, r, wait=not cancelled) for w, r in serving.items()]
            raise type(error)(f"{error}\n" + "\n".join(f"  {outcome}" for outcome in outcomes)) from error
    say(f"released {image} to {', '.join(str(w) for w in manifests.workloads)}")


def _cluster(inputs: Inputs, work: Path) -> Cluster:
    kubeconfig = work / "kubeconfig"
    region = inputs.target.region
    update = ["aws", "eks", "update-kubeconfig", "--region", region, "--name", inputs.cluster_name]
    sh([*update, "--kubeconfig", str(kubeconfig)], what="aws eks update-kubeconfig")
    return Cluster(kubeconfig, inputs.rollout_timeout)


@dataclass
class _Deployments:
    """The stable and canary Deployments, as the step engine moves them."""

    cluster: Cluster
    stable: Workload
    canary: Workload
    replicas: int  # the canary's while it runs
    stable_replicas: int  # the stable's when the release began
    autoscaler: Autoscaler | None  # the stable's, from the manifests being released

    def start_canary(self) -> None:
        if self.autoscaler is not None:
            # While the canary takes a share, the stable's CPU falls and its autoscaler would shrink it;
            # when the traffic returns (promotion or rollback) it would be short. Argo Rollouts keeps the
            # stable at full scale the same way.
            self.cluster.hold_min_replicas(self.autoscaler, self.stable.namespace, self.stable_replicas)
        self.cluster.scale(self.canary, self.replicas)
        if not self.cluster.wait(self.canary):
            msg = f"the canary {self.canary} was not ready within {self.cluster.rollout_timeout} s"
            raise DeployError(msg)

    def promote(self) -> None:
        self.cluster.apply((self.stable.file,), self.stable.namespace)
        if not self.cluster.wait(self.stable):
            msg = f"the rolling update of {self.stable} to the new version did not finish"
            raise DeployError(msg)

    def stop_canary(self) -> None:
        try:
            self.cluster.scale(self.canary, 0)
        finally:
            if self.autoscaler is not None:  # its own minimum again, whatever the scale-down did
                self.cluster.apply((self.autoscaler.file,), self.stable.namespace)


def _canary_release(inputs: Inputs, manifests: Manifests, cluster: Cluster) -> bool:
    """Release through the traffic steps; False when there is no canary or no version serving yet (the
    release goes out whole). AnalysisFailed or DeployError after the weights and the canary were put back."""
    stable, canary, traffic = manifests.track(STABLE), manifests.track(CANARY), inputs.target.traffic
    if stable is None or canary is None or traffic is None or inputs.target.outputs is None:
        say("no canary Deployment (the exposure is not a target group binding): the release goes out whole")
        return False
    desired, ready = cluster.replicas(stable)
    if not ready:
        say(f"{stable} has no ready replica: a first release goes out whole, without canary steps")
        return False
    cluster.roll_out(hold_back(manifests, stable))  # all but the stable Deployment; the canary rests at zero
    replicas = max(1, math.ceil(desired * max(traffic.steps) / 100))
    StepEngine(
        traffic=traffic,
        split=WeightedListener(inputs.target.outputs),
        workloads=_Deployments(cluster, stable, canary, replicas, desired, manifests.autoscaler),
        say=say,
        poll_seconds=min(15.0, traffic.step_seconds / 4),
    ).run()
    say(f"promoted through the canary steps {traffic.steps}")
    return True


def abort(inputs: Inputs) -> None:
    """Weights back to the stable group, canary to zero, the autoscaler's own minimum: what a rollback
    does, from any state."""
    assert inputs.target.outputs is not None  # noqa: S101 -- resolve_inputs requires the listener for abort
    WeightedListener(inputs.target.outputs).shift(0)
    # The committed manifests' canary and autoscaler (neither changes with the image).
    manifests = read_manifests(REPO_ROOT / "dist" / inputs.target.environment)
    canary = manifests.track(CANARY)
    with tempfile.TemporaryDirectory(prefix="deploy-") as scratch:
        cluster = _cluster(inputs, Path(scratch))
        if canary is None or cluster.replicas(canary)[0] == 0:
            say(f"{canary} has no replicas (or does not exist): nothing to scale down")
        else:
            cluster.scale(canary, 0)
        if manifests.autoscaler is not None:
            cluster.apply((manifests.autoscaler.file,), manifests.namespace)
    say("aborted: all traffic on the stable target group, canary at zero, the autoscaler's minimum restored")


PHASES: dict[str, Callable[[Inputs], object]] = {
    "publish": publish,
    "scan": scan,
    "release": release,
    "abort": abort,
}


def _report_error(message: str, environ: Mapping[str, str]) -> None:
    sys.stderr.write(f"error: {message}\n")
    if environ.get("GITHUB_ACTIONS") == "true":
        sys.stderr.write(f"::error title=deploy::{message.splitlines()[0]}\n")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    try:
        inputs = resolve_inputs(_parser().parse_args(argv), environ)
    except InputError as error:
        for problem in error.problems:
            _report_error(problem, environ)
        sys.stderr.write("error: nothing was run\n")
        return EXIT_INVALID
    target = inputs.target
    say(
        f"{inputs.command}: environment {target.environment}, "
        f"image {target.repository_url}:{inputs.image_tag or '(none needed)'} ({target.region})"
        + (f", cluster {inputs.cluster_name}, smoke test {inputs.smoke_url}" if inputs.cluster_name else "")
    )
    if inputs.command == "validate":
        say("inputs and tools are valid; nothing was run")
        return 0
    for phase in PHASES_BY_COMMAND[inputs.command]:
        say(f"==> {phase}")
        try:
            with cancellable():
                PHASES[phase](inputs)
        except (DeployError, AnalysisFailed, Cancelled) as error:
            _report_error(f"{phase}: {error}", environ)
            return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
