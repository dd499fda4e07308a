"""The schema gate: every object in dist/ validated strictly by manifests_py.validation (what the
manifests tests use), against the CRD schemas the judged tree vendors in manifests_py/crd_schemas.
A missing schema, a YAML error or an empty dist/ fails the gate.
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
            problems = validate_objects(documents, versions=versions, schema_dir=schema_dir)
        except yaml.YAMLError as error:
            result.errors.append(f"{relative} is not readable YAML: {error}")
        except CrdSchemaMissingError as error:
            result.errors.append(f"{relative}: {error}")
        else:
            checked += len(documents)
            findings += [Finding(message=str(problem), path=relative) for problem in problems]
    result.checked = checked
    result.evaluations.append(Evaluation(rule=RULE, title=TITLE, checked=checked, findings=tuple(findings)))
    result.notes.append(f"{len(files)} files, Kubernetes {versions[0]} to {versions[-1]} and the CRD schemas")
    return result
