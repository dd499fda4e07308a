"""The features' IAM document types are the plan gate's: a type judged by one is known to the other."""

from __future__ import annotations

import re

from policies.plan_facts import IAM_DOCUMENTS
from policies.plan_meaning import IDENTITY_POLICIES
from tests.policies.conftest import FEATURES_DIR


def _examples(scenario: str) -> list[list[str]]:
    text = (FEATURES_DIR / "iam_least_privilege.feature").read_text(encoding="utf-8")
    block = text.split(f"Scenario Outline: {scenario}\n", 1)[1].split("Examples:", 1)[1]
    block = re.split(r"\n\s*\n", block.strip("\n"), maxsplit=1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.splitlines()]
    return rows[1:]


def test_every_iam_document_type_has_a_row_in_each_outline_that_reads_documents():
    expected = [[type_, attribute] for type_, attribute in IAM_DOCUMENTS.items()]
    assert _examples("Allow statements grant no wildcard action") == expected
    assert _examples("Allow statements list what they grant instead of what they leave out") == expected


def test_the_resource_outline_and_passrole_rule_cover_every_permission_policy_type():
    # Key policies are exempt from the every-resource rule ("*" is the key); trust policies name no resource.
    star = {
        row[0]
        for row in _examples("Allow statements on every resource grant only actions that take no resource")
    }
    assert star == set(IAM_DOCUMENTS) - {"aws_kms_key", "aws_iam_role"}
    assert {
        "aws_iam_role_policy",
        "aws_iam_policy",
        "aws_iam_user_policy",
        "aws_iam_group_policy",
    } == IDENTITY_POLICIES
