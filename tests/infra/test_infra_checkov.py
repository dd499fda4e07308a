"""checkov's Terraform checks on infra/, run isolated at the version the Makefile pins: zero failures."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.tool_pins import requirement
from tools.common import REPO_ROOT

pytestmark = [pytest.mark.slow]


def test_checkov_terraform_checks_pass_on_infra():
    uv = REPO_ROOT / ".tools" / "bin" / "uv"
    if not uv.is_file():
        pytest.fail("uv is missing: run `make bootstrap`", pytrace=False)
    result = subprocess.run(
        [
            str(uv),
            "tool",
            "run",
            "--from",
            requirement("checkov", "CHECKOV_VERSION"),
            "checkov",
            "--directory",
            "infra",
            "--framework",
            "terraform",
            "--skip-download",
            "--output",
            "json",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"checkov produced no JSON report ({result.returncode}):\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    reports = report if isinstance(report, list) else [report]
    (terraform,) = [r for r in reports if r.get("check_type") == "terraform"]
    summary = terraform["summary"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in terraform["results"]["failed_checks"]
    ]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 50, "checkov scanned too little of infra/ to mean anything"
    assert summary["passed"] > 100
    assert not failed, f"checkov failures: {failed}"
    assert result.returncode == 0
    skipped = terraform["results"]["skipped_checks"]
    assert summary["skipped"] == len(skipped) > 0
    reasons = [c["check_result"].get("suppress_comment", "") for c in skipped]
    assert all(len(r) > 15 for r in reasons), f"skips without a reason: {reasons}"
