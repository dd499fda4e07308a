"""The cluster side of a release: what to apply, applying it, waiting for rollouts, rolling back."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml  # type: ignore[import-untyped]

from tools.deploy.shell import COMMAND_TIMEOUT_SECONDS, DeployError, Shell

__all__ = ["Cluster", "Manifests", "Workload", "read_manifests"]


@dataclass(frozen=True)
class Workload:
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"deployment/{self.name} in namespace {self.namespace}"


@dataclass(frozen=True, kw_only=True)
class Manifests:
    namespace: str
    files: tuple[Path, ...]
    skipped: tuple[str, ...]
    workloads: tuple[Workload, ...]


def read_manifests(folder: Path) -> Manifests:
    """What release applies: the namespaced objects (the deploy role edits one namespace, nothing else)."""
    files: list[Path] = []
    skipped: list[str] = []
    namespaces: set[str] = set()
    workloads: list[Workload] = []
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
        workloads.extend(
            Workload(doc["metadata"]["name"], doc["metadata"]["namespace"])
            for doc in documents
            if doc.get("kind") == "Deployment"
        )
    if len(namespaces) != 1:
        msg = (
            f"the manifests in {folder} must target exactly one namespace, not {sorted(namespaces) or 'none'}"
        )
        raise DeployError(msg)
    if not workloads:
        msg = f"no Deployment in {folder}: nothing to roll out"
        raise DeployError(msg)
    return Manifests(
        namespace=namespaces.pop(), files=tuple(files), skipped=tuple(skipped), workloads=tuple(workloads)
    )


class Cluster:
    def __init__(self, shell: Shell, kubeconfig: Path, rollout_timeout: int) -> None:
        self.shell = shell
        self.env = {"KUBECONFIG": str(kubeconfig)}
        self.rollout_timeout = rollout_timeout

    def kubectl(
        self, *arguments: str, timeout: int = COMMAND_TIMEOUT_SECONDS
    ) -> subprocess.CompletedProcess[str]:
        return self.shell.run(["kubectl", *arguments], extra_env=self.env, timeout=timeout)

    def revision(self, workload: Workload) -> str | None:
        result = self.kubectl(
            "get",
            f"deployment/{workload.name}",
            "--namespace",
            workload.namespace,
            "--ignore-not-found",
            "--output",
            r"jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}",
        )
        if result.returncode != 0:
            msg = f"reading the revision of {workload} failed:\n{result.stderr.strip()}"
            raise DeployError(msg)
        return result.stdout.strip() or None

    def apply(self, manifests: Manifests) -> None:
        arguments = ["apply", "--namespace", manifests.namespace]
        for path in manifests.files:
            arguments += ["--filename", str(path)]
        result = self.kubectl(*arguments)
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            msg = f"kubectl apply failed (exit {result.returncode}):\n{result.stderr.strip()}"
            raise DeployError(msg)

    def wait(self, workload: Workload) -> bool:
        result = self.kubectl(
            "rollout",
            "status",
            f"deployment/{workload.name}",
            "--namespace",
            workload.namespace,
            f"--timeout={self.rollout_timeout}s",
            timeout=self.rollout_timeout + 60,
        )
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        return result.returncode == 0

    def roll_back(self, workload: Workload, revision: str | None) -> str:
        """Return ``workload`` to ``revision`` and wait; a sentence saying how that went."""
        if revision is None:
            return f"{workload} has no earlier revision to return to (first deploy); left for inspection"
        undone = self.kubectl(
            "rollout",
            "undo",
            f"deployment/{workload.name}",
            "--namespace",
            workload.namespace,
            f"--to-revision={revision}",
        )
        sys.stdout.write(undone.stdout)
        if undone.returncode != 0:
            return (
                f"ROLLBACK FAILED: kubectl rollout undo of {workload} exited {undone.returncode}: "
                f"{undone.stderr.strip()}"
            )
        if not self.wait(workload):
            return f"ROLLBACK FAILED: {workload} did not become available again at revision {revision}"
        return f"{workload} rolled back to revision {revision}, which is serving"
