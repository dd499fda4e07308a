"""`make plan-compliance`: the plan job's terraform-compliance run, on a small plan and feature of its own."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.workflows.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

_ECR = {"address": "aws_ecr_repository.this", "mode": "managed", "type": "aws_ecr_repository", "name": "this"}


def _plan(mutability: str) -> dict:
    values = {"name": "predictor", "image_tag_mutability": mutability}
    provider = "registry.terraform.io/hashicorp/aws"
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {
            "root_module": {"resources": [{**_ECR, "provider_name": provider, "values": values}]}
        },
        "resource_changes": [
            {
                **_ECR,
                "provider_name": provider,
                "change": {"actions": ["create"], "before": None, "after": values, "after_unknown": {}},
            }
        ],
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        **_ECR,
                        "provider_config_key": "aws",
                        "expressions": {"name": {"constant_value": "predictor"}},
                    }
                ]
            }
        },
    }


FEATURE = """Feature: ECR tags are immutable

  @noskip
  Scenario: Image tags cannot be overwritten
    Given I have aws_ecr_repository defined
    Then it must have image_tag_mutability
    And its value must be IMMUTABLE
"""


def _compliance(
    tmp_path: Path, plan: dict | None, *, indent: int | None = None
) -> subprocess.CompletedProcess[str]:
    features = tmp_path / "features"
    features.mkdir(exist_ok=True)
    (features / "ecr.feature").write_text(FEATURE, encoding="utf-8")
    variables = [
        f"COMPLIANCE_FEATURES={features}",
        f"COMPLIANCE_REPORT={tmp_path / 'report' / 'compliance.txt'}",
    ]
    if plan is not None:
        plan_json = tmp_path / "plan.json"
        plan_json.write_text(json.dumps(plan, indent=indent), encoding="utf-8")
        variables.append(f"PLAN_JSON={plan_json}")
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), "plan-compliance", *variables],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_compliant_plan_passes_and_the_report_is_kept(tmp_path):
    result = _compliance(tmp_path, _plan("IMMUTABLE"))

    assert result.returncode == 0, result.stdout + result.stderr
    report = re.sub(r"\x1b\[[0-9;]*m", "", (tmp_path / "report/compliance.txt").read_text(encoding="utf-8"))
    assert "1 scenarios (1 passed)" in report


def test_a_violating_plan_fails_naming_the_scenario(tmp_path):
    result = _compliance(tmp_path, _plan("MUTABLE"))

    assert result.returncode != 0
    report = (tmp_path / "report/compliance.txt").read_text(encoding="utf-8")
    assert "Image tags cannot be overwritten" in report
    assert "Failure" in report


def test_a_pretty_printed_plan_is_read_whole_and_left_untouched(tmp_path):
    result = _compliance(tmp_path, _plan("MUTABLE"), indent=2)
    original = (tmp_path / "plan.json").read_text(encoding="utf-8")

    assert result.returncode != 0, "a multi-line plan must still be checked, not half-read"
    assert "Failure" in (tmp_path / "report/compliance.txt").read_text(encoding="utf-8")
    assert original == json.dumps(_plan("MUTABLE"), indent=2)


def test_no_plan_is_an_error_not_a_pass(tmp_path):
    result = _compliance(tmp_path, None)

    assert result.returncode == 2
    assert "set PLAN_JSON" in result.stderr


def test_a_file_that_is_not_a_plan_is_an_error(tmp_path):
    result = _compliance(tmp_path, {"resources": []})

    assert result.returncode == 2
    assert "is not a plan's JSON" in result.stderr
