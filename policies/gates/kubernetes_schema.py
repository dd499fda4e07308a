"""The schema gate: every object in dist/ validated strictly, with the manifests' own validator.

manifests_py.validation is what the manifests tests use: built-in kinds against kubernetes-validate's
strict schemas for every bundled minor from 1.28 up, custom resources (TargetGroupBinding, Knative
Service, Karpenter NodePool and EC2NodeClass) against the upstream CRD schemas the judged tree vendors in
manifests_py/crd_schemas. A missing schema, a YAML error or an empty dist/ fails the gate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from manifests_py.validation import (
    CRD_SCHEMA_DIR,
    CrdSchemaMissingError,
    kubernetes_versions,
    validate_objects,
)
from policies.model import Evaluation, Finding, GateError, GateResult
from policies.workspace import Context
from tools.common import REPO_ROOT

NAME = "kubernetes-schema"
RULE = "K8S_SCHEMA"
TITLE = "Objects validate strictly (unknown fields fail) for Kubernetes 1.28+ and their CRDs"


def _documents(path: Path) -> list[dict[str, Any]]:
    documents = [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]
    for document in documents:
        if not isinstance(document, dict):
            msg = f"a document is a {type(document).__name__}, not a Kubernetes object"
            raise yaml.YAMLError(msg)
    return documents


def run(context: Context) -> GateResult:
    files = sorted(context.root.dist.rglob("*.yaml")) + sorted(context.root.dist.rglob("*.yml"))
    if not files:
        msg = f"no manifest in {context.root.relative(context.root.dist)}/"
        raise GateError(msg)
    result = GateResult(name=NAME, unit="objects")
    versions = kubernetes_versions()
    schema_dir = context.root.path / CRD_SCHEMA_DIR.relative_to(REPO_ROOT)
    findings: list[Finding] = []
    checked = 0
    for path in files:
        relative = context.root.relative(path)
        try:
            documents = _documents(path)
        except yaml.YAMLError as error:
            result.errors.append(f"{relative} is not readable YAML: {error}")
            continue
        try:
            problems = validate_objects(documents, versions=versions, schema_dir=schema_dir)
        except CrdSchemaMissingError as error:
            result.errors.append(f"{relative}: {error}")
            continue
        checked += len(documents)
        findings += [Finding(message=str(problem), path=relative) for problem in problems]
    result.checked = checked
    result.evaluations.append(Evaluation(rule=RULE, title=TITLE, checked=checked, findings=tuple(findings)))
    result.notes.append(f"{len(files)} files, Kubernetes {versions[0]} to {versions[-1]} and the CRD schemas")
    return result
