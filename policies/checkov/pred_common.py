"""Helpers shared by the CKV_PRED_* checks (checkov imports this folder's modules by file name)."""

from __future__ import annotations

from typing import Any


def first(value: Any) -> Any:  # noqa: ANN401 -- checkov configurations are untyped
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def fields(mapping: Any) -> dict[str, Any]:  # noqa: ANN401
    """A mapping without the __startline__/__endline__ bookkeeping checkov adds to every parsed dict."""
    if not isinstance(mapping, dict):
        return {}
    return {key: value for key, value in mapping.items() if not str(key).startswith("__")}


def mapping(value: Any) -> dict[str, Any]:  # noqa: ANN401
    """Labels or annotations as one dict (checkov may hand them over as a list of one-entry dicts)."""
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for entry in value:
            merged.update(fields(entry))
        return merged
    return fields(value)


def get_path(document: Any, *path: str | int) -> Any:  # noqa: ANN401
    """document[path...] through dicts and lists, or None."""
    node = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or len(node) <= step:
                return None
            node = node[step]
        else:
            if not isinstance(node, dict):
                return None
            node = node.get(step)
    return node


def pod_spec(conf: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload: a Pod, a controller's template, a CronJob's job template, or a Knative
    Service's revision template. None for anything else (a core Service, say)."""
    kind = conf.get("kind")
    if kind == "Pod":
        spec = conf.get("spec")
    elif kind == "CronJob":
        spec = get_path(conf, "spec", "jobTemplate", "spec", "template", "spec")
    elif kind == "Service":
        if not str(conf.get("apiVersion", "")).startswith("serving.knative.dev/"):
            return None
        spec = get_path(conf, "spec", "template", "spec")
    else:
        spec = get_path(conf, "spec", "template", "spec")
    return spec if isinstance(spec, dict) else None
