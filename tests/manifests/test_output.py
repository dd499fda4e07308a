"""Output files: deterministic, in apply order, published whole or per folder, never half-written."""

from __future__ import annotations

import pytest

from manifests_py.output import (
    APPLY_ORDER,
    UnorderedKindError,
    file_name,
    publish,
    render_yaml,
    staging_directory,
    write_folder,
)


def namespace(name="demo"):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def test_yaml_is_deterministic_and_starts_with_the_header():
    document = {
        "spec": {"b": 1, "a": [{"z": "true", "y": "8000"}]},
        "metadata": {"name": "x"},
        "kind": "K",
        "apiVersion": "v1",
    }
    first = render_yaml(document, header="line one\nline two")
    assert first == render_yaml(dict(reversed(list(document.items()))), header="line one\nline two")
    assert first.splitlines()[:4] == ["# line one", "# line two", "apiVersion: v1", "kind: K"]
    # Strings that look like other types stay strings.
    assert "z: 'true'" in first
    assert "y: '8000'" in first


def test_every_kind_has_an_apply_rank_and_namespaces_come_first():
    assert min(APPLY_ORDER.values()) == APPLY_ORDER[("v1", "Namespace")]
    assert file_name(namespace()) == "00-namespace-demo.yaml"
    with pytest.raises(UnorderedKindError, match=r"example\.com/v1 Widget"):
        file_name({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})


def test_two_objects_for_one_file_are_refused(tmp_path):
    with pytest.raises(FileExistsError):
        write_folder(tmp_path / "f", [namespace(), namespace()], header="h")


def test_publishing_whole_replaces_everything(tmp_path):
    out = tmp_path / "dist"
    (out / "stale").mkdir(parents=True)
    (out / "stale" / "old.yaml").write_text("old")
    with staging_directory(out) as staging:
        write_folder(staging / "dev", [namespace()], header="h")
        publish(staging, out, ["dev"], whole=True)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["dev", "dev/00-namespace-demo.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"], "no staging or retired tree left behind"


def test_publishing_one_folder_keeps_the_others(tmp_path):
    out = tmp_path / "dist"
    for folder in ("dev", "prod"):
        (out / folder).mkdir(parents=True)
        (out / folder / "old.yaml").write_text(folder)
    with staging_directory(out) as staging:
        write_folder(staging / "prod", [namespace("new")], header="h")
        publish(staging, out, ["prod"], whole=False)
    assert (out / "dev" / "old.yaml").read_text() == "dev"
    assert sorted(p.name for p in (out / "prod").iterdir()) == ["00-namespace-new.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]


def test_a_failure_while_staging_leaves_the_output_untouched(tmp_path):
    out = tmp_path / "dist"
    (out / "dev").mkdir(parents=True)
    (out / "dev" / "old.yaml").write_text("old")
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    with staging_directory(out) as staging, pytest.raises(UnorderedKindError):
        write_folder(staging / "dev", [namespace(), widget], header="h")
    assert [str(p.relative_to(out)) for p in sorted(out.rglob("*"))] == ["dev", "dev/old.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]
