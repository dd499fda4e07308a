"""What the synthesized Deployment says about a rolling update, read from ``dist/`` (never retyped).

Kubernetes resolves ``maxSurge`` and ``maxUnavailable`` against the desired replica count: a percentage
of surge rounds up, a percentage of unavailability rounds down, and if both come out as zero the
controller allows one unavailable pod so the rollout can move at all (``ResolveFenceposts`` in
kubernetes/pkg/controller/deployment/util). The Deployment here leaves ``replicas`` to its
HorizontalPodAutoscaler, so the replica count is the autoscaler's floor, ``minReplicas``.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from manifests_py.props import CANARY, TRACK_LABEL

_PERCENT = re.compile(r"^(?P<number>\d+)%$")
# The kubelet gives up on a container after this many failed startup probes; default per the API.
_DEFAULT_STARTUP_FAILURES = 3
_DEFAULT_PERIOD_SECONDS = 10
_DEFAULT_GRACE_SECONDS = 30  # terminationGracePeriodSeconds when the pod spec leaves it out


class RolloutSpecError(ValueError):
    """The manifests do not describe one Deployment this rehearsal can follow; the message says why."""


@dataclass(frozen=True)
class RolloutSpec:
    source: str  # the manifest file the Deployment came from
    replicas: int
    replicas_from: str  # which field gave the replica count
    max_surge: int
    max_unavailable: int
    pre_stop_seconds: float
    termination_grace_seconds: float
    min_ready_seconds: float
    startup_budget_seconds: float  # startupProbe failureThreshold x periodSeconds
    container_env: dict[str, str]  # the container's literal environment
    mount_paths: tuple[str, ...] = ()  # the container's volume mounts, where files it names may live


def resolve_int_or_percent(value: int | str, total: int, *, round_up: bool, field: str) -> int:
    """An IntOrString resolved against ``total`` as the Deployment controller does."""
    if isinstance(value, bool):
        msg = f"{field}: expected an integer or a percentage, got {value!r}"
        raise RolloutSpecError(msg)
    if isinstance(value, int):
        if value < 0:
            msg = f"{field}: must not be negative, got {value}"
            raise RolloutSpecError(msg)
        return value
    match = _PERCENT.match(str(value))
    if match is None:
        msg = f"{field}: expected an integer or a percentage like '25%', got {value!r}"
        raise RolloutSpecError(msg)
    exact = int(match["number"]) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def _documents(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    if not folder.is_dir():
        msg = f"{folder}: no such manifest folder (run `make synth`?)"
        raise RolloutSpecError(msg)
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as error:
            msg = f"{path}: not valid YAML: {error}"
            raise RolloutSpecError(msg) from error
        found.extend((path, document) for document in documents if isinstance(document, dict))
    return found


def _replicas(deployment: dict[str, Any], documents: list[tuple[Path, dict[str, Any]]]) -> tuple[int, str]:
    spec = deployment.get("spec", {})
    if "replicas" in spec:
        return int(spec["replicas"]), "Deployment spec.replicas"
    name = deployment.get("metadata", {}).get("name")
    for _, document in documents:
        target = document.get("spec", {}).get("scaleTargetRef", {})
        if document.get("kind") == "HorizontalPodAutoscaler" and (target.get("kind"), target.get("name")) == (
            "Deployment",
            name,
        ):
            return int(document["spec"].get("minReplicas", 1)), "HorizontalPodAutoscaler spec.minReplicas"
    # The API server's default when neither the Deployment nor an autoscaler says.
    return 1, "Deployment default (1)"


def _pre_stop_seconds(container: dict[str, Any], where: str) -> float:
    """The preStop hook's sleep: the ``sleep`` action, or an exec of ``sleep N`` (directly or via a shell)."""
    pre_stop = container.get("lifecycle", {}).get("preStop")
    if pre_stop is None:
        return 0.0
    if "sleep" in pre_stop:
        return float(pre_stop["sleep"]["seconds"])
    match words := list(pre_stop.get("exec", {}).get("command") or []):
        case [shell, "-c", script] if shell.endswith("sh"):
            words = shlex.split(script)
    match words:
        case [sleep, seconds] if Path(sleep).name == "sleep" and seconds.replace(".", "", 1).isdigit():
            return float(seconds)
    msg = f"{where} lifecycle.preStop: only a sleep can be rehearsed, got {pre_stop!r}"
    raise RolloutSpecError(msg)


def _literal_env(container: dict[str, Any], where: str) -> dict[str, str]:
    env = {}
    for variable in container.get("env", []):
        if "value" not in variable:
            msg = f"{where} env {variable.get('name')}: only literal values can be rehearsed (no valueFrom)"
            raise RolloutSpecError(msg)
        env[variable["name"]] = str(variable["value"])
    return env


def _pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}))


def load_rollout_spec(folder: Path) -> RolloutSpec:
    """Read the one Deployment (and its autoscaler) in ``folder`` and resolve its rollout parameters."""
    documents = _documents(folder)
    # The canary's Deployment has the stable pods' spec and rests at zero: the rollout is the stable one's.
    deployments = [
        (path, doc)
        for path, doc in documents
        if doc.get("kind") == "Deployment" and _pod_labels(doc).get(TRACK_LABEL) != CANARY
    ]
    if len(deployments) != 1:
        names = ", ".join(str(path.name) for path, _ in deployments) or "none"
        msg = f"{folder}: expected exactly one Deployment, found {len(deployments)} ({names})"
        raise RolloutSpecError(msg)
    ((path, deployment),) = deployments
    where = f"{path}: Deployment {deployment.get('metadata', {}).get('name')}"
    spec = deployment.get("spec", {})
    strategy = spec.get("strategy", {})
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        msg = f"{where}: strategy {strategy.get('type')!r} is not a rolling update"
        raise RolloutSpecError(msg)
    replicas, replicas_from = _replicas(deployment, documents)
    rolling = strategy.get("rollingUpdate", {})
    surge_raw = rolling.get("maxSurge", "25%")
    unavailable_raw = rolling.get("maxUnavailable", "25%")
    surge = resolve_int_or_percent(surge_raw, replicas, round_up=True, field=f"{where} maxSurge")
    unavailable = resolve_int_or_percent(
        unavailable_raw, replicas, round_up=False, field=f"{where} maxUnavailable"
    )
    if surge == 0 and unavailable == 0:
        unavailable = 1
    pod = spec.get("template", {}).get("spec", {})
    containers = pod.get("containers", [])
    if len(containers) != 1:
        msg = f"{where}: expected one container, found {len(containers)}"
        raise RolloutSpecError(msg)
    container = containers[0]
    startup = container.get("startupProbe", {})
    startup_budget = startup.get("failureThreshold", _DEFAULT_STARTUP_FAILURES) * startup.get(
        "periodSeconds", _DEFAULT_PERIOD_SECONDS
    )
    return RolloutSpec(
        source=str(path),
        replicas=replicas,
        replicas_from=replicas_from,
        max_surge=surge,
        max_unavailable=unavailable,
        pre_stop_seconds=_pre_stop_seconds(container, where),
        termination_grace_seconds=float(pod.get("terminationGracePeriodSeconds", _DEFAULT_GRACE_SECONDS)),
        min_ready_seconds=float(spec.get("minReadySeconds", 0)),
        startup_budget_seconds=float(startup_budget) if startup else 0.0,
        container_env=_literal_env(container, where),
        mount_paths=tuple(mount["mountPath"] for mount in container.get("volumeMounts", [])),
    )
