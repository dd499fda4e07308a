"""The pod as both targets run it, in Kubernetes JSON: labels, security context, probes, resources, env.

Knative takes these fragments verbatim; the EKS rendering builds the same values through cdk8s-plus,
and the tests hold the two renderings to identical security contexts, probes and resources.
"""

from __future__ import annotations

from typing import Any

from manifests_py.props import TRACK_LABEL, Probe, ServiceProps

__all__ = [
    "MANAGED_BY",
    "NAME_LABEL",
    "PORT_NAME",
    "TMP_MOUNT_PATH",
    "TMP_VOLUME",
    "TRACK_LABEL",
    "common_labels",
    "container_security_context",
    "environment",
    "http_probe",
    "pod_labels",
    "resources",
    "selector_labels",
    "service_labels",
    "tmp_volume",
    "tmp_volume_mount",
]

MANAGED_BY = "cdk8s"
PORT_NAME = "http"
TMP_VOLUME = "tmp"
# The only writable path: the root filesystem is read-only.
TMP_MOUNT_PATH = "/tmp"  # noqa: S108 - a private emptyDir, not the node's /tmp


PART_OF = "app.kubernetes.io/part-of"
NAME_LABEL = "app.kubernetes.io/name"


def selector_labels(props: ServiceProps, name: str | None = None) -> dict[str, str]:
    """The labels that select one workload's pods; immutable on a Deployment, so kept minimal. Each track
    is its own workload (``name``), so the stable Deployment never counts the canary's pods."""
    return {NAME_LABEL: name or props.name}


def service_labels(props: ServiceProps) -> dict[str, str]:
    """The labels of every pod of the service, whatever its track (what the metrics agent scrapes)."""
    return {PART_OF: props.name}


def common_labels(props: ServiceProps, name: str | None = None) -> dict[str, str]:
    return {**selector_labels(props, name), "app.kubernetes.io/managed-by": MANAGED_BY}


def pod_labels(props: ServiceProps, track: str, name: str | None = None) -> dict[str, str]:
    return {**common_labels(props, name), **service_labels(props), TRACK_LABEL: track}


def container_security_context(props: ServiceProps) -> dict[str, Any]:
    """Pod Security Standard ``restricted``, plus a read-only root filesystem and a numeric UID/GID."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsGroup": props.run_as_user,
        "runAsNonRoot": True,
        "runAsUser": props.run_as_user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def http_probe(path: str, probe: Probe, *, port: int | None) -> dict[str, Any]:
    http_get: dict[str, Any] = {"path": path, "scheme": "HTTP"}
    if port is not None:
        http_get["port"] = port
    return {
        "failureThreshold": probe.failure_threshold,
        "httpGet": http_get,
        "periodSeconds": probe.period_seconds,
        "successThreshold": 1,
        "timeoutSeconds": probe.timeout_seconds,
    }


def resources(props: ServiceProps) -> dict[str, Any]:
    r = props.resources
    return {
        "limits": {"cpu": f"{r.cpu_limit_millicores}m", "memory": f"{r.memory_limit_mebibytes}Mi"},
        "requests": {"cpu": f"{r.cpu_request_millicores}m", "memory": f"{r.memory_request_mebibytes}Mi"},
    }


def environment(props: ServiceProps) -> list[dict[str, Any]]:
    """The variables, sorted by name so output is stable."""
    return [{"name": name, "value": value} for name, value in sorted(props.environment.items())]


def tmp_volume(props: ServiceProps) -> dict[str, Any]:
    return {"emptyDir": {"sizeLimit": f"{props.tmp_size_limit_mebibytes}Mi"}, "name": TMP_VOLUME}


def tmp_volume_mount() -> dict[str, Any]:
    return {"mountPath": TMP_MOUNT_PATH, "name": TMP_VOLUME}
