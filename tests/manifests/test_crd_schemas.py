"""The vendored CRD schemas: each is the upstream file its provenance names, and nothing else is used."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml

from manifests_py.validation import CRD_SCHEMA_DIR, CRD_SCHEMA_FILES, CrdSchemaMissingError, validate_objects
from tests.manifests.conftest import DIST, load_folder

SOURCES = json.loads((CRD_SCHEMA_DIR / "sources.json").read_text(encoding="utf-8"))["schemas"]


def test_every_vendored_file_has_its_provenance_and_nothing_else_is_there():
    listed = {entry["file"] for entry in SOURCES}
    assert listed == {path.name for path in CRD_SCHEMA_DIR.glob("*.yaml")}
    assert listed == set(CRD_SCHEMA_FILES.values())
    for entry in SOURCES:
        # Pinned to a commit where the provenance names one, else the main branch it was copied from.
        ref = entry.get("commit", "main")
        assert entry["source"] == f"https://github.com/{entry['repository']}/blob/{ref}/{entry['path']}"
        assert entry["version"]
        assert entry["license"] == "Apache-2.0"


@pytest.mark.parametrize("entry", SOURCES, ids=lambda entry: entry["kind"])
def test_each_file_is_the_pinned_upstream_crd_of_its_kind(entry):
    content = (CRD_SCHEMA_DIR / entry["file"]).read_bytes()
    assert hashlib.sha256(content).hexdigest() == entry["sha256"]
    crd = yaml.safe_load(content)
    group, version = entry["apiVersion"].split("/")
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["spec"]["group"] == group
    assert crd["spec"]["names"]["kind"] == entry["kind"]
    assert version in {v["name"] for v in crd["spec"]["versions"]}


def test_a_modified_schema_is_refused_not_used(tmp_path):
    schema_dir = tmp_path / "crd_schemas"
    shutil.copytree(CRD_SCHEMA_DIR, schema_dir)
    binding_file = schema_dir / CRD_SCHEMA_FILES[("elbv2.k8s.aws/v1beta1", "TargetGroupBinding")]
    # A looser schema would pass more objects: an edit must fail the check, whatever it is.
    binding_file.write_text(binding_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    binding = next(o for o in load_folder(DIST / "prod") if o["kind"] == "TargetGroupBinding")
    with pytest.raises(CrdSchemaMissingError, match="sha256 differs"):
        validate_objects([binding], versions=["1.28"], schema_dir=schema_dir)


def test_schemas_without_their_provenance_are_refused(tmp_path):
    schema_dir = tmp_path / "crd_schemas"
    shutil.copytree(CRD_SCHEMA_DIR, schema_dir)
    (schema_dir / "sources.json").unlink()
    binding = next(o for o in load_folder(DIST / "prod") if o["kind"] == "TargetGroupBinding")
    with pytest.raises(CrdSchemaMissingError, match="provenance"):
        validate_objects([binding], versions=["1.28"], schema_dir=schema_dir)
