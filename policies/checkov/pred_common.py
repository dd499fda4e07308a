"""What the CKV_PRED_* checks share (checkov imports this folder's modules by file name)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.common.util.data_structures_utils import find_in_dict
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check


class K8sCheck(BaseK8Check):
    """A Kubernetes check whose `judge` says True (passed), False (failed) or None (not its concern)."""

    def __init__(self, check_id: str, name: str, kinds: list[str]) -> None:
        super().__init__(
            name=name, id=check_id, categories=[CheckCategories.KUBERNETES], supported_entities=kinds
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        verdict = self.judge(conf)
        if verdict is None:
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if verdict else CheckResult.FAILED

    def judge(self, conf: dict[str, Any]) -> bool | None:
        raise NotImplementedError


def fields(mapping: Any) -> dict[str, Any]:  # noqa: ANN401 -- checkov configurations are untyped
    """A mapping without the __startline__/__endline__ bookkeeping checkov adds to every parsed dict."""
    if not isinstance(mapping, dict):
        return {}
    return {key: value for key, value in mapping.items() if not str(key).startswith("__")}


def mapping(value: Any) -> dict[str, Any]:  # noqa: ANN401
    """Labels or annotations as one dict (checkov may hand them over as a list of one-entry dicts)."""
    if isinstance(value, list):
        return {key: item for entry in value for key, item in fields(entry).items()}
    return fields(value)


def pod_spec(conf: dict[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload: a Pod, a controller's template, a CronJob's job template, or a Knative
    Service's revision template. None for anything else (a core Service, say)."""
    kind = conf.get("kind")
    if kind == "Service" and not str(conf.get("apiVersion", "")).startswith("serving.knative.dev/"):
        return None
    spec = {
        "Pod": find_in_dict(conf, "spec"),
        "CronJob": find_in_dict(conf, "spec/jobTemplate/spec/template/spec"),
    }.get(str(kind), find_in_dict(conf, "spec/template/spec"))
    return spec if isinstance(spec, dict) else None
