"""Synthesis from the outside: dist/ is exactly what `make synth` writes, quickly, with clean output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
import yaml

from tests.manifests.conftest import DIST, REPO_ROOT, committed_folders, load_folder

DIGEST = "sha256:" + "0123456789abcdef" * 4


def tree(directory):
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def tree_differences(expected, actual):
    """Human-readable differences between two directory trees; empty when identical."""
    want, got = tree(expected), tree(actual)
    missing = [f"missing: {name}" for name in sorted(set(want) - set(got))]
    extra = [f"unexpected: {name}" for name in sorted(set(got) - set(want))]
    changed = [f"changed: {name}" for name in sorted(set(want) & set(got)) if want[name] != got[name]]
    return missing + extra + changed


def clean_environment():
    """The caller's environment without the jsii silencing variables: the app must quiet Node.js itself."""
    return {key: value for key, value in os.environ.items() if not key.startswith("JSII_SILENCE_")}


def synth(*args, env=None):
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "manifests_py", *args],
        cwd=REPO_ROOT,
        env=env or clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result, time.perf_counter() - started


@pytest.fixture(scope="module")
def fresh_synthesis(tmp_path_factory):
    """One plain synthesis into a fresh folder, which the drift and the output tests both read."""
    out = tmp_path_factory.mktemp("synthesis") / "dist"
    result, elapsed = synth("--out", str(out))
    return result, elapsed, out


def test_dist_is_what_synthesis_writes(fresh_synthesis):
    """The drift check: re-synthesizing must reproduce the committed dist/ byte for byte."""
    result, elapsed, out = fresh_synthesis
    assert result.returncode == 0, result.stderr
    differences = tree_differences(DIST, out)
    assert differences == [], "dist/ is stale; run `make synth` and commit it:\n" + "\n".join(differences)
    assert sorted(p.name for p in DIST.iterdir()) == sorted(committed_folders())
    print(f"synthesis took {elapsed:.2f} s")  # noqa: T201 - reported with -s


def test_synthesis_output_is_clean_and_reports_what_it_did(fresh_synthesis):
    result, _elapsed, _out = fresh_synthesis
    assert result.returncode == 0, result.stderr
    assert "!!" not in result.stderr, "the jsii banner leaked"
    assert "end-of-life" not in result.stderr.lower()
    assert "b'" not in result.stderr
    (summary,) = result.stdout.splitlines()
    assert summary.startswith(
        "synthesized dev (eks, 12 objects), prod (eks, 12 objects), knative (knative, 3 objects), "
        "dev-cluster (eks cluster, 4 objects), prod-cluster (eks cluster, 4 objects)"
    )
    assert summary.endswith(" s")
    for line in result.stderr.splitlines():
        assert line.startswith(("warning: ", "note: ")), line
    assert "warning: dev: min_scale=0 does not carry to eks" in result.stderr


def test_the_drift_check_notices_every_kind_of_change(tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(DIST, copy)
    assert tree_differences(DIST, copy) == []
    deployment = copy / "prod" / "40-deployment-predictor.yaml"
    deployment.write_text(deployment.read_text().replace("maxUnavailable: 0", "maxUnavailable: 1"))
    (copy / "dev" / "99-extra.yaml").write_text("kind: Extra\n")
    (copy / "knative" / "00-namespace-predictor.yaml").unlink()
    assert tree_differences(DIST, copy) == [
        "missing: knative/00-namespace-predictor.yaml",
        "unexpected: dev/99-extra.yaml",
        "changed: prod/40-deployment-predictor.yaml",
    ]


def test_cdk8s_synth_runs_the_same_app(tmp_path):
    """`cdk8s synth` runs cdk8s.yaml's `app` in a shell with CDK8S_OUTDIR set; the result is dist/."""
    config = yaml.safe_load((REPO_ROOT / "cdk8s.yaml").read_text())
    assert config["output"] != "dist", "the CLI empties its output directory before synthesis"
    out = tmp_path / "cdk8s.out"
    result = subprocess.run(  # noqa: S602 - a shell is exactly how the cdk8s CLI runs the app
        config["app"],
        shell=True,
        cwd=REPO_ROOT,
        env={**clean_environment(), "CDK8S_OUTDIR": str(out)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert tree_differences(DIST, out) == []


def test_the_cdk8s_cli_itself(tmp_path):
    # Pinned in manifests_py/cdk8s-cli/ and installed by `make bootstrap` (which `make test` runs).
    cli = REPO_ROOT / ".tools" / "cdk8s-cli" / "node_modules" / ".bin" / "cdk8s"
    if not cli.is_file():
        pytest.fail(f"{cli} is missing: run `make bootstrap`", pytrace=False)
    result = subprocess.run(
        [str(cli), "synth", "--output", str(tmp_path / "out")],
        cwd=REPO_ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert tree_differences(DIST, tmp_path / "out") == []


def test_a_deploy_synthesis_replaces_only_its_environment_and_pins_the_digest(tmp_path):
    out = tmp_path / "dist"
    shutil.copytree(DIST, out)
    repository = next(o for o in load_folder(DIST / "prod") if o["kind"] == "Deployment")["spec"]["template"][
        "spec"
    ]["containers"][0]["image"].rsplit(":", 1)[0]
    result, _ = synth("--out", str(out), "--environment", "prod", "--image", f"{repository}@{DIGEST}")
    assert result.returncode == 0, result.stderr
    assert tree_differences(DIST, out) == [
        "changed: prod/40-deployment-predictor-canary.yaml",
        "changed: prod/40-deployment-predictor.yaml",
    ]
    for deployment in (o for o in load_folder(out / "prod") if o["kind"] == "Deployment"):
        assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"{repository}@{DIGEST}"
        # With a digest there is nothing left for checkov to skip.
        assert "checkov.io/skip1" not in deployment["metadata"].get("annotations", {})


@pytest.mark.slow
def test_make_synth_check_passes_on_the_committed_dist():
    result = subprocess.run(
        ["make", "--no-print-directory", "synth-check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dist/ matches a fresh synthesis" in result.stdout
