"""Strict schema validation of synthesized objects: unknown fields fail, like ``kubectl --validate=strict``.

Built-in kinds are checked with kubernetes-validate's strict schemas for every Kubernetes minor it bundles
from 1.28 (the cdk8s-plus-28 line) up, which includes the newest release EKS runs. Custom resources are
checked against their upstream CRD schemas, vendored unchanged in ``manifests_py/crd_schemas`` (source and
sha256 of each in ``sources.json`` there), made strict the way the API server treats a structural schema:
an object that lists its properties accepts no others unless it says ``x-kubernetes-preserve-unknown-fields``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import yaml  # type: ignore[import-untyped]
from kubernetes_validate.utils import all_versions, major_minor, schema_contents  # type: ignore[import-untyped]

__all__ = [
    "CRD_SCHEMA_DIR",
    "CRD_SCHEMA_FILES",
    "MINIMUM_KUBERNETES",
    "CrdSchemaMissingError",
    "ObjectProblem",
    "kubernetes_versions",
    "validate_against_crd",
    "validate_builtin",
    "validate_objects",
]

MINIMUM_KUBERNETES = "1.28"
CRD_SCHEMA_DIR = Path(__file__).resolve().parent / "crd_schemas"
# (apiVersion, kind) -> the upstream CRD file that defines it, as the provenance file lists them.
CRD_SCHEMA_FILES: dict[tuple[str, str], str] = {
    (entry["apiVersion"], entry["kind"]): entry["file"]
    for entry in json.loads((CRD_SCHEMA_DIR / "sources.json").read_text(encoding="utf-8"))["schemas"]
}
_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CrdSchemaMissingError(FileNotFoundError):
    """A custom resource's CRD schema is missing or not the pinned upstream file (a broken checkout)."""


@dataclass(frozen=True, kw_only=True)
class ObjectProblem:
    object_id: str
    against: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.object_id} ({self.against}) at {self.path or '<root>'}: {self.message}"


def kubernetes_versions() -> tuple[str, ...]:
    """Every minor kubernetes-validate bundles from MINIMUM_KUBERNETES up, oldest first."""
    minors = list(dict.fromkeys(major_minor(version) for version in all_versions()))  # sorted, oldest first
    return tuple(minors[minors.index(MINIMUM_KUBERNETES) :])


def _object_id(document: Mapping[str, Any]) -> str:
    metadata = document.get("metadata") or {}
    kind = f"{document.get('apiVersion')}/{document.get('kind')}"
    return f"{kind} {metadata.get('namespace', '-')}/{metadata.get('name')}"


def _strict(schema: object) -> object:
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema and not schema.get(_PRESERVE):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@cache
def _object_meta_schema() -> dict[str, Any]:
    """Strict ObjectMeta from kubernetes-validate, for the metadata a CRD schema leaves open."""
    newest = kubernetes_validate.latest_version()
    file_name = f"kubernetes-json-schema/v{newest}-local-strict/_definitions.json"
    definitions = schema_contents(file_name, newest)
    meta: dict[str, Any] = definitions["$defs"]["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    # Fields that refer to other definitions (timestamps, owner references, managed fields) are set by
    # the API server, never by a manifest: leaving them out makes them unknown, hence rejected.
    meta["properties"] = {
        key: value for key, value in meta["properties"].items() if "$ref" not in json.dumps(value)
    }
    return meta


def _pinned_sha256(schema_dir: Path, file_name: str) -> str | None:
    try:
        sources = json.loads((schema_dir / "sources.json").read_text(encoding="utf-8"))["schemas"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        msg = f"{schema_dir / 'sources.json'}: cannot read the CRD schemas' provenance ({error})"
        raise CrdSchemaMissingError(msg) from error
    return next((entry.get("sha256") for entry in sources if entry.get("file") == file_name), None)


@cache
def _crd_validator(schema_dir: Path, file_name: str, api_version: str) -> jsonschema.Draft7Validator:
    path = schema_dir / file_name
    if not path.is_file():
        msg = f"CRD schema {path} not found (the vendored schemas live in {CRD_SCHEMA_DIR})"
        raise CrdSchemaMissingError(msg)
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != _pinned_sha256(schema_dir, file_name):
        msg = f"CRD schema {path} is not the upstream file sources.json pins (sha256 differs)"
        raise CrdSchemaMissingError(msg)
    crd = yaml.load(content.decode("utf-8"), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    version = api_version.rsplit("/", 1)[1]
    schemas = [v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"] if v["name"] == version]
    if not schemas:
        msg = f"{path}: defines no version {version!r}"
        raise CrdSchemaMissingError(msg)
    schemas[0]["properties"]["metadata"] = _object_meta_schema()  # crd is this call's own parse
    return jsonschema.Draft7Validator(_strict(schemas[0]))


def validate_against_crd(
    document: Mapping[str, Any], schema_dir: Path = CRD_SCHEMA_DIR
) -> list[ObjectProblem]:
    key = (str(document.get("apiVersion")), str(document.get("kind")))
    file_name = CRD_SCHEMA_FILES[key]
    validator = _crd_validator(schema_dir, file_name, key[0])
    return [
        ObjectProblem(
            object_id=_object_id(document),
            against=file_name,
            path=".".join(str(part) for part in error.absolute_path),
            message=error.message,
        )
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


def validate_builtin(document: Mapping[str, Any], version: str) -> list[ObjectProblem]:
    try:
        kubernetes_validate.validate(dict(document), version, strict=True)
    # An unknown kind (SchemaNotFoundError) is a failure, never a pass.
    except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
        path = ".".join(str(part) for part in getattr(error, "path", ()))
        problem = ObjectProblem(
            object_id=_object_id(document), against=f"Kubernetes {version}", path=path, message=error.message
        )
        return [problem]
    return []


def validate_objects(
    documents: Iterable[Mapping[str, Any]], *, versions: Sequence[str], schema_dir: Path = CRD_SCHEMA_DIR
) -> list[ObjectProblem]:
    """Every problem in every object; raises CrdSchemaMissingError if a custom resource's schema is absent."""
    problems: list[ObjectProblem] = []
    for document in documents:
        if (document.get("apiVersion"), document.get("kind")) in CRD_SCHEMA_FILES:
            problems.extend(validate_against_crd(document, schema_dir))
            continue
        for version in versions:
            problems.extend(validate_builtin(document, version))
    return problems
