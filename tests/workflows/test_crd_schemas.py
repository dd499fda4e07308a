"""CI's copy of the upstream CRD schemas: the pins, the script that fetches them, the jobs that need them.

A developer's checkout reads the schemas from ../shared/schemas; a runner has no ../shared, so the jobs
that validate custom resources download them at pinned commits first. The script is exercised against a
local mirror (file://), never the network.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from manifests_py.validation import CRD_SCHEMA_ENV, CRD_SCHEMA_FILES
from tests.workflows.conftest import GITHUB_DIR, REPO_ROOT, SCRIPTS_DIR

FETCH = SCRIPTS_DIR / "fetch_crd_schemas.py"
PINS = GITHUB_DIR / "crd-schemas.json"
SHARED_SCHEMAS = REPO_ROOT.parent / "shared" / "schemas"
# The commands whose checks read the CRD schemas (make test runs through .ci/run in CI).
SCHEMA_READERS = (".ci/run", "make test", "make policy", "make synth-check")


def _pins() -> list[dict]:
    return json.loads(PINS.read_text(encoding="utf-8"))["schemas"]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fetch(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FETCH), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# ---------------------------------------------------------------------------------------------- the pins


def test_the_pins_cover_exactly_the_schemas_the_manifests_are_validated_against():
    assert sorted(pin["file"] for pin in _pins()) == sorted(set(CRD_SCHEMA_FILES.values()))


def test_each_pin_fetches_the_upstream_file_the_shared_copy_came_from():
    sources = SHARED_SCHEMAS / "SOURCES.md"
    if not sources.is_file():
        pytest.skip(f"{sources} is missing (expected in ../shared/schemas beside the repository)")
    rows = {}
    for line in sources.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].endswith(".yaml"):
            rows[cells[0]] = (cells[1], cells[2])
    assert {pin["file"]: (pin["repo"], pin["path"]) for pin in _pins()} == rows


def test_same_as_shared_says_whether_the_pinned_bytes_are_the_shared_copy():
    for pin in _pins():
        shared = SHARED_SCHEMAS / pin["file"]
        if not shared.is_file():
            pytest.skip(
                f"CRD schema {shared} is missing (expected in ../shared/schemas beside the repository)"
            )
        identical = _sha256(shared.read_bytes()) == pin["sha256"]
        assert identical == pin["same_as_shared"], pin["file"]
        assert identical or pin["difference"].strip(), f"{pin['file']}: say what the pinned version lacks"


def test_every_pin_is_well_formed_and_attempted(tmp_path: Path):
    """The real pins pass the script's validation (exit 1, not 2) and every file is tried."""
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    result = _fetch("--base-url", empty_mirror.as_uri(), str(tmp_path / "out"))
    assert result.returncode == 1, result.stderr
    for pin in _pins():
        assert f"{pin['file']}: download failed" in result.stderr
        assert f"/{pin['repo']}/{pin['commit']}/{pin['path']}" in result.stderr
    assert list((tmp_path / "out").iterdir()) == []


# ---------------------------------------------------------------------------------------------- the script


@pytest.fixture
def mirror(tmp_path: Path) -> tuple[Path, Path]:
    """A raw.githubusercontent.com laid out on disk, and pins that match it."""
    base = tmp_path / "raw"
    entries = []
    for index, name in enumerate(("alpha-crd.yaml", "beta-crd.yaml")):
        content = f"kind: CustomResourceDefinition\nmetadata:\n  name: {name}\n".encode()
        entry = {
            "file": name,
            "repo": f"upstream/project-{index}",
            "commit": str(index) * 40,
            "path": f"config/crd/{name}",
            "sha256": _sha256(content),
        }
        target = base / entry["repo"] / entry["commit"] / entry["path"]
        target.parent.mkdir(parents=True)
        target.write_bytes(content)
        entries.append(entry)
    pins = tmp_path / "pins.json"
    pins.write_text(json.dumps({"schemas": entries}), encoding="utf-8")
    return base, pins


def _upstream(base: Path, pins: Path, name: str) -> Path:
    entry = next(pin for pin in json.loads(pins.read_text())["schemas"] if pin["file"] == name)
    return base / entry["repo"] / entry["commit"] / entry["path"]


def test_every_pinned_file_lands_under_its_name_and_the_script_says_where(tmp_path, mirror):
    base, pins = mirror
    out = tmp_path / "out"
    result = _fetch("--pins", str(pins), "--base-url", base.as_uri(), str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == ["alpha-crd.yaml", "beta-crd.yaml"]
    for name in ("alpha-crd.yaml", "beta-crd.yaml"):
        assert (out / name).read_bytes() == _upstream(base, pins, name).read_bytes()
        assert name in result.stdout
    assert f"2 CRD schemas fetched and verified into {out}" in result.stdout


def test_a_checksum_mismatch_fails_naming_the_file_and_writes_nothing(tmp_path, mirror):
    base, pins = mirror
    tampered = _upstream(base, pins, "beta-crd.yaml")
    tampered.write_bytes(tampered.read_bytes() + b"# changed upstream\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "beta-crd.yaml").write_text("an earlier copy\n", encoding="utf-8")

    result = _fetch("--pins", str(pins), "--base-url", base.as_uri(), str(out))

    assert result.returncode == 1
    assert f"beta-crd.yaml: sha256 {_sha256(tampered.read_bytes())} is not the pinned" in result.stderr
    assert "alpha-crd.yaml" not in result.stderr
    assert f"no schema was written to {out}" in result.stderr
    # Not the good file, not the bad one, no staging directory; the earlier copy is untouched.
    assert [path.name for path in out.iterdir()] == ["beta-crd.yaml"]
    assert (out / "beta-crd.yaml").read_text(encoding="utf-8") == "an earlier copy\n"


def test_a_missing_upstream_file_fails_naming_it(tmp_path, mirror):
    base, pins = mirror
    _upstream(base, pins, "alpha-crd.yaml").unlink()
    out = tmp_path / "out"
    result = _fetch("--pins", str(pins), "--base-url", base.as_uri(), str(out))
    assert result.returncode == 1
    assert "alpha-crd.yaml: download failed" in result.stderr
    assert list(out.iterdir()) == []


def test_only_https_and_a_local_mirror_are_fetched(tmp_path, mirror):
    _, pins = mirror
    result = _fetch("--pins", str(pins), "--base-url", "http://raw.githubusercontent.com", str(tmp_path))
    assert result.returncode == 2
    assert "only file or https URLs are fetched" in result.stderr


def test_malformed_pins_are_refused_naming_every_problem(tmp_path, mirror):
    base, pins = mirror
    entries = json.loads(pins.read_text())["schemas"]
    entries[0]["commit"] = "main"
    entries[1]["path"] = "../../etc/passwd"
    entries.append(dict(entries[0], commit="a" * 40))
    pins.write_text(json.dumps({"schemas": entries}), encoding="utf-8")

    result = _fetch("--pins", str(pins), "--base-url", base.as_uri(), str(tmp_path / "out"))

    assert result.returncode == 2
    assert "schemas[0]: commit 'main' is not a valid commit" in result.stderr
    assert "schemas[1]: path '../../etc/passwd' is not a valid path" in result.stderr
    assert "alpha-crd.yaml is pinned twice" in result.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------- the jobs


# The deploy's release re-synthesizes with the pushed digest, which validates the custom resources too.
RELEASE = "deploy.py release"


def _schema_readers(workflows, workflow="checks.yml", readers=SCHEMA_READERS) -> dict[str, tuple[int, int]]:
    """A workflow's jobs that read the schemas: (index of the fetch step, index of the first reader)."""
    found = {}
    for job_id, job in workflows[workflow]["jobs"].items():
        runs = [step.get("run", "") for step in job.get("steps", [])]
        reading = [i for i, run in enumerate(runs) if any(command in run for command in readers)]
        if reading:
            fetches = [i for i, run in enumerate(runs) if "fetch_crd_schemas.py" in run]
            found[job_id] = (fetches[0] if fetches else -1, reading[0])
    return found


def test_every_job_that_reads_the_crd_schemas_fetches_them_first(workflows):
    found = _schema_readers(workflows)
    assert set(found) == {"test", "policy", "synth-check"}
    for job_id, (fetch, reader) in found.items():
        assert 0 <= fetch < reader, f"checks.yml:{job_id} must fetch the CRD schemas before using them"


def test_the_deploy_fetches_the_crd_schemas_before_it_releases(workflows):
    found = _schema_readers(workflows, "deploy.yml", (RELEASE,))
    assert set(found) == {"deploy"}
    fetch, release = found["deploy"]
    assert 0 <= fetch < release, "deploy.yml must fetch the CRD schemas before the release synthesizes"


def test_the_fetch_step_points_the_later_steps_at_the_schemas(workflows):
    jobs = [("checks.yml", job_id) for job_id in _schema_readers(workflows)]
    jobs += [("deploy.yml", job_id) for job_id in _schema_readers(workflows, "deploy.yml", (RELEASE,))]
    for workflow, job_id in jobs:
        steps = workflows[workflow]["jobs"][job_id]["steps"]
        run = next(step["run"] for step in steps if "fetch_crd_schemas.py" in step.get("run", ""))
        assert '.github/scripts/fetch_crd_schemas.py "${RUNNER_TEMP}/crd-schemas"' in run, job_id
        assert f'echo "{CRD_SCHEMA_ENV}=${{RUNNER_TEMP}}/crd-schemas" >> "${{GITHUB_ENV}}"' in run, job_id
