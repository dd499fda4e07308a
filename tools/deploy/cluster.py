"""The cluster side of a release: what to apply, applying it, waiting for rollouts, rolling back."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from manifests_py.props import TRACK_LABEL
from tools.deploy import DeployError, sh


@dataclass(frozen=True)
class Workload:
    name: str
    namespace: str
    track: str | None  # the pods' track label: stable, or the canary a release scales up
    file: Path = field(compare=False)  # the synthesizer writes one object per file

    def __str__(self) -> str:
        return f"deployment/{self.name} in namespace {self.namespace}"


@dataclass(frozen=True)
class Autoscaler:
    """The stable Deployment's HorizontalPodAutoscaler: its file and the most replicas it allows."""

    file: Path
    max_replicas: int


@dataclass(frozen=True, kw_only=True)
class Manifests:
    namespace: str
    files: tuple[Path, ...]
    skipped: tuple[str, ...]
    workloads: tuple[Workload, ...]
    autoscaler: Autoscaler | None = None

    def track(self, track: str) -> Workload | None:
        return next((workload for workload in self.workloads if workload.track == track), None)


def read_manifests(folder: Path) -> Manifests:
    """What release applies: the namespaced objects (the deploy role edits one namespace, nothing else)."""
    files: list[Path] = []
    skipped: list[str] = []
    namespaces: set[str] = set()
    workloads: list[Workload] = []
    autoscaler: Autoscaler | None = None
    for path in sorted(folder.glob("*.yaml")):
        documents = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
        scoped = [doc.get("metadata", {}).get("namespace") for doc in documents]
        if all(scoped):
            files.append(path)
            namespaces.update(scoped)
        elif not any(scoped):
            skipped.extend(f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}" for doc in documents)
        else:
            msg = f"{path.name} mixes namespaced and cluster-scoped objects; cannot apply it"
            raise DeployError(msg)
        workloads.extend(workload for doc in documents if (workload := _workload(doc, path)))
        for doc in documents:
            if doc.get("kind") == "HorizontalPodAutoscaler":
                autoscaler = Autoscaler(path, int(doc["spec"]["maxReplicas"]))
    if len(namespaces) != 1:
        msg = (
            f"the manifests in {folder} must target exactly one namespace, not {sorted(namespaces) or 'none'}"
        )
        raise DeployError(msg)
    if not workloads:
        msg = f"no Deployment in {folder}: nothing to roll out"
        raise DeployError(msg)
    return Manifests(
        namespace=namespaces.pop(),
        files=tuple(files),
        skipped=tuple(skipped),
        workloads=tuple(workloads),
        autoscaler=autoscaler,
    )


def hold_back(manifests: Manifests, workload: Workload) -> Manifests:
    """The manifests without ``workload``'s Deployment (its file, which holds it alone)."""
    workloads = tuple(w for w in manifests.workloads if w != workload)
    return dataclasses.replace(
        manifests, files=tuple(f for f in manifests.files if f != workload.file), workloads=workloads
    )


def _workload(document: dict[str, Any], file: Path) -> Workload | None:
    if document.get("kind") != "Deployment":
        return None
    metadata, pods = document["metadata"], document["spec"]["template"]["metadata"]
    return Workload(metadata["name"], metadata["namespace"], pods.get("labels", {}).get(TRACK_LABEL), file)


class Cluster:
    def __init__(self, kubeconfig: Path, rollout_timeout: int) -> None:
        self.env = {"KUBECONFIG": str(kubeconfig)}
        self.rollout_timeout = rollout_timeout

    def kubectl(
        self, verb: str, workload: Workload, *arguments: str, what: str | None = None, timeout: int = 300
    ) -> subprocess.CompletedProcess[str]:
        command = ["kubectl", *verb.split(), f"deployment/{workload.name}", "--namespace", workload.namespace]
        return sh([*command, *arguments], what=what, env=self.env, timeout=timeout)

    def revision(self, workload: Workload) -> str | None:
        jsonpath = r"jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}"
        what = f"reading the revision of {workload}"
        read = self.kubectl("get", workload, "--ignore-not-found", "--output", jsonpath, what=what)
        return read.stdout.strip() or None

    def replicas(self, workload: Workload) -> tuple[int, int]:
        """(desired, ready) replicas of ``workload``; (0, 0) when it does not exist yet."""
        jsonpath = "jsonpath={.spec.replicas} {.status.readyReplicas}"
        what = f"reading the replicas of {workload}"
        read = self.kubectl("get", workload, "--ignore-not-found", "--output", jsonpath, what=what)
        counts = [int(count) for count in read.stdout.split() if count.isdigit()]
        desired, ready, *_ = [*counts, 0, 0]
        return desired, ready

    def scale(self, workload: Workload, replicas: int) -> None:
        # A patch of spec.replicas, not `kubectl scale`: the deploy role may patch Deployments (it applies
        # them), and the scale subresource would be one more grant for the same change.
        patch = json.dumps({"spec": {"replicas": replicas}})
        what = f"scaling {workload} to {replicas}"
        self.kubectl("patch", workload, "--type", "merge", "--patch", patch, what=what)

    def hold_min_replicas(self, autoscaler: Autoscaler, namespace: str, replicas: int) -> None:
        """Keep the autoscaler from going below ``replicas`` until its file is applied again; no higher than
        its maximum, since the API refuses a minReplicas above it."""
        replicas = min(replicas, autoscaler.max_replicas)
        patch = ["--type", "merge", "--patch", json.dumps({"spec": {"minReplicas": replicas}})]
        what = f"holding the autoscaler at {replicas} replicas or more"
        sh(
            ["kubectl", "patch", "--filename", str(autoscaler.file), "--namespace", namespace, *patch],
            what=what,
            env=self.env,
        )

    def apply(self, files: tuple[Path, ...], namespace: str) -> None:
        arguments = [argument for path in files for argument in ("--filename", str(path))]
        sh(
            ["kubectl", "apply", "--namespace", namespace, *arguments],
            what="kubectl apply",
            env=self.env,
            show=True,
        )

    def roll_out(self, manifests: Manifests) -> None:
        """Apply the manifests and wait for each rollout; DeployError when either fails."""
        self.apply(manifests.files, manifests.namespace)
        for workload in manifests.workloads:
            if not self.wait(workload):
                msg = f"the rollout of {workload} failed or did not finish within {self.rollout_timeout} s"
                raise DeployError(msg)

    def wait(self, workload: Workload) -> bool:
        timeout = f"--timeout={self.rollout_timeout}s"
        status = self.kubectl("rollout status", workload, timeout, timeout=self.rollout_timeout + 60)
        sys.stdout.write(status.stdout)
        sys.stderr.write(status.stderr)
        return status.returncode == 0

    def roll_back(self, workload: Workload, revision: str | None, *, wait: bool = True) -> str:
        """Return ``workload`` to ``revision`` (and wait for it); a sentence saying how that went."""
        if revision is None:
            return f"{workload} has no earlier revision to return to (first deploy); left for inspection"
        undone = self.kubectl("rollout undo", workload, f"--to-revision={revision}")
        sys.stdout.write(undone.stdout)
        if undone.returncode != 0:
            return (
                f"ROLLBACK FAILED: kubectl rollout undo of {workload} exited {undone.returncode}: "
                f"{undone.stderr.strip()}"
            )
        if not wait:
            return f"{workload} is rolling back to revision {revision}"
        if not self.wait(workload):
            return f"ROLLBACK FAILED: {workload} did not become available again at revision {revision}"
        return f"{workload} rolled back to revision {revision}, which is serving"
