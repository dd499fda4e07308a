"""The ``knative`` target: a ``serving.knative.dev/v1`` Service, with its Namespace and ServiceAccount.

Knative owns the Deployment, the autoscaler, routing and draining (its queue-proxy sidecar holds the
pod until in-flight requests finish), so the EKS-only objects are not rendered; each difference that
a setting would notice is reported as a warning.

Releases are Knative's own: each revision is named after its image and its content (``revision_name``),
and ``traffic`` splits requests between the ``stable`` revision and the latest one, tagged ``canary``.
The committed rendering is the state at rest, this version promoted: ``traffic_split(<this revision>, 0)``.
This repository's deploy releases on EKS only; a Knative release would apply it with
``traffic_split(<the live stable revision>, steps[0])``, patch the same shape at each step, and end on
``traffic_split(<new>, 0)`` (promoted) or ``traffic_split(<old>, 0)`` (rolled back).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

import cdk8s
from constructs import Construct

from manifests_py import _pod
from manifests_py._eks import PSS_LABELS, namespace_and_account
from manifests_py.portability import PortabilityWarning
from manifests_py.props import IngressExposure, ServiceProps, Target, TargetGroupBindingExposure

__all__ = ["render_knative", "revision_name", "traffic_split"]

_AUTOSCALING = "autoscaling.knative.dev"
# Knative names the port by protocol: http1 (HTTP/1.1) or h2c.
_KNATIVE_PORT_NAME = "http1"
_REVISION_NAME_LENGTH = 63
_CONTENT_HASH_LENGTH = 8


def revision_name(props: ServiceProps, template: Mapping[str, Any]) -> str:
    """The revision's name: its image (the digest when pinned, else the tag) for people to read, then a hash
    of the rest of the template, because Knative refuses a changed template under a name it already has
    (a new setting with the same image is a new revision too)."""
    image = props.image
    version = image.digest.removeprefix("sha256:")[:12] if image.digest else str(image.tag)
    slug = re.sub(r"[^a-z0-9-]", "-", f"{props.name}-{version}".lower())
    content = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    prefix = slug[: _REVISION_NAME_LENGTH - _CONTENT_HASH_LENGTH - 1].rstrip("-")
    return f"{prefix}-{content[:_CONTENT_HASH_LENGTH]}"


def traffic_split(stable_revision: str, canary_percent: int) -> list[dict[str, Any]]:
    """Knative ``spec.traffic``: the stable revision gets the rest; the latest revision, ``canary``."""
    return [
        {"tag": "stable", "revisionName": stable_revision, "percent": 100 - canary_percent},
        {"tag": "canary", "latestRevision": True, "percent": canary_percent},
    ]


def _autoscaling_annotations(props: ServiceProps) -> dict[str, str]:
    scale = props.autoscaling
    if scale.concurrency_target is not None:
        klass, metric, target = "kpa", "concurrency", scale.concurrency_target
        min_scale = scale.min
    else:
        # CPU needs the HPA class, which cannot scale to zero.
        klass, metric, target = "hpa", "cpu", scale.cpu_target_percent
        min_scale = max(scale.min, 1)
    return {
        f"{_AUTOSCALING}/class": f"{klass}.{_AUTOSCALING}",
        f"{_AUTOSCALING}/metric": metric,
        f"{_AUTOSCALING}/target": str(target),
        f"{_AUTOSCALING}/min-scale": str(min_scale),
        f"{_AUTOSCALING}/max-scale": str(scale.max),
    }


def _not_carried(props: ServiceProps) -> list[PortabilityWarning]:
    warnings: list[PortabilityWarning] = []

    def warn(setting: str, detail: str) -> None:
        warnings.append(PortabilityWarning(target=Target.KNATIVE, setting=setting, detail=detail))

    scale = props.autoscaling
    if scale.concurrency_target is not None:
        warn(
            f"cpu_target_percent={scale.cpu_target_percent}",
            f"Knative's autoscaler scales on concurrency_target={scale.concurrency_target} instead",
        )
    elif scale.min == 0:
        warn(
            "min_scale=0",
            "scaling on CPU uses Knative's HPA class, which cannot scale to zero; min-scale is 1",
        )
    if isinstance(props.exposure, TargetGroupBindingExposure):
        warn(
            "exposure=TargetGroupBinding",
            "Knative routes through its own ingress layer; no binding is rendered",
        )
    elif isinstance(props.exposure, IngressExposure):
        warn("exposure=Ingress", "Knative routes through its own ingress layer; no Ingress is rendered")
    warn(
        "zone spread",
        "topologySpreadConstraints need Knative's kubernetes.podspec-topologyspreadconstraints flag; "
        "not rendered",
    )
    warn(
        f"preStop sleep {props.shutdown.pre_stop_sleep_seconds}s",
        "Knative forbids lifecycle hooks; its queue-proxy drains in-flight requests instead",
    )
    warn(
        f"terminationGracePeriodSeconds={props.shutdown.termination_grace_period_seconds}",
        "Knative derives the grace period from timeoutSeconds",
    )
    warn(
        f"max_unavailable={props.max_unavailable}", "no PodDisruptionBudget: Knative owns the revision's pods"
    )
    warn(
        "API keys",
        "Knative mounts no CSI volumes (knative/serving#11069): no key file, so POST /predict is open",
    )
    warn(
        "NetworkPolicy",
        "not rendered: traffic reaches the pod through Knative's queue-proxy port, not the app port",
    )
    return warnings


def render_knative(scope: Construct, props: ServiceProps) -> list[PortabilityWarning]:
    labels = _pod.common_labels(props)
    namespace_and_account(scope, props, PSS_LABELS)
    probes = props.probes
    container = {
        "name": props.name,
        "image": str(props.image),
        "imagePullPolicy": "Always",
        "ports": [{"containerPort": props.port, "name": _KNATIVE_PORT_NAME, "protocol": "TCP"}],
        "env": _pod.environment(props),
        "resources": _pod.resources(props),
        # Knative probes the port it routes to; naming a port here is rejected unless it matches.
        "startupProbe": _pod.http_probe(props.health.startup, probes.startup, port=None),
        "readinessProbe": _pod.http_probe(props.health.readiness, probes.readiness, port=None),
        "livenessProbe": _pod.http_probe(props.health.liveness, probes.liveness, port=None),
        "securityContext": _pod.container_security_context(props),
        "volumeMounts": [_pod.tmp_volume_mount()],
    }
    revision: dict[str, Any] = {
        "containers": [container],
        "containerConcurrency": props.autoscaling.container_concurrency,
        "serviceAccountName": props.service_account,
        "enableServiceLinks": False,
        "volumes": [_pod.tmp_volume(props)],
    }
    # Unset, Knative's cluster default applies (config-defaults revision-timeout-seconds).
    if props.request_timeout_seconds is not None:
        revision["timeoutSeconds"] = props.request_timeout_seconds
    service = cdk8s.ApiObject(
        scope,
        "knative-service",
        api_version="serving.knative.dev/v1",
        kind="Service",
        metadata=cdk8s.ApiObjectMetadata(name=props.name, namespace=props.namespace, labels=labels),
    )
    template: dict[str, Any] = {
        "metadata": {"labels": labels, "annotations": _autoscaling_annotations(props)},
        "spec": revision,
    }
    name = revision_name(props, template)
    template["metadata"]["name"] = name
    spec = {"template": template, "traffic": traffic_split(name, 0)}
    service.add_json_patch(cdk8s.JsonPatch.add("/spec", spec))
    return _not_carried(props)
