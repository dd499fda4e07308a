"""CKV_PRED_AWS_1 / CKV_PRED_AWS_2: a web-identity trust names one exact subject and the STS audience.

checkov's own CKV_AWS_358 passes `repo:org/*` (any repository of the organisation) and a StringLike
subject. Here every statement that allows sts:AssumeRoleWithWebIdentity must have, under StringEquals,
a `<issuer>:sub` whose values hold no wildcard (`*`, `?`) and a `<issuer>:aud` of sts.amazonaws.com; no
other operator may constrain the subject. Works for GitHub Actions (token.actions.githubusercontent.com)
and EKS IRSA (oidc.eks.<region>.amazonaws.com/id/<id>) alike, since it reads the condition keys' suffixes.

A trust built in a local (as infra/ does) is not evaluated by checkov in the source: the check then says
UNKNOWN there and judges the rendered value in the plan (the checkov-plan gate).
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck
from pred_common import as_list, first, is_unresolved, policy_document

WEB_IDENTITY = "sts:assumerolewithwebidentity"
AUDIENCE = "sts.amazonaws.com"
EXACT = "StringEquals"


def _allows_web_identity(actions: list[Any]) -> bool:
    return any(
        isinstance(action, str) and action.lower() in {WEB_IDENTITY, "sts:*", "*"} for action in actions
    )


def _wildcard(values: list[Any]) -> bool:
    return any(not isinstance(value, str) or "*" in value or "?" in value for value in values)


def judge(conditions: list[tuple[str, str, list[Any]]]) -> bool:
    """(operator, key, values) of one statement -> whether the trust is exact."""
    subjects = [(op, values) for op, key, values in conditions if key.lower().endswith(":sub")]
    audiences = [(op, values) for op, key, values in conditions if key.lower().endswith(":aud")]
    if not subjects or not audiences:
        return False
    if any(op != EXACT or not values or _wildcard(values) for op, values in subjects):
        return False
    return all(op == EXACT and values == [AUDIENCE] for op, values in audiences)


class WebIdentityTrustIsExact(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Web-identity trust names one exact subject (no wildcard) and the STS audience",
            id="CKV_PRED_AWS_1",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_iam_role"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        raw = first(conf.get("assume_role_policy"))
        document = policy_document(raw)
        if document is None:  # not evaluated here (a local, a module input): the plan shows it
            return CheckResult.UNKNOWN
        statements = [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]
        relevant = [
            s
            for s in statements
            if s.get("Effect") == "Allow"
            and _allows_web_identity(as_list(s.get("Action")))
            and "Federated" in (s.get("Principal") if isinstance(s.get("Principal"), dict) else {})
        ]
        if not relevant:
            return CheckResult.UNKNOWN
        for statement in relevant:
            condition = statement.get("Condition")
            if not isinstance(condition, dict):
                return CheckResult.FAILED
            conditions = [
                (operator, key, as_list(values))
                for operator, block in condition.items()
                if isinstance(block, dict)
                for key, values in block.items()
            ]
            if not judge(conditions):
                return CheckResult.FAILED
        return CheckResult.PASSED


class WebIdentityTrustDocumentIsExact(BaseDataCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Web-identity trust document names one exact subject (no wildcard) and the STS audience",
            id="CKV_PRED_AWS_2",
            categories=[CheckCategories.IAM],
            supported_data=["aws_iam_policy_document"],
        )

    def scan_data_conf(self, conf: dict[str, Any]) -> CheckResult:
        statements = [first(s) for s in as_list(conf.get("statement")) if isinstance(first(s), dict)]
        relevant = [
            s
            for s in statements
            if first(s.get("effect", "Allow")) == "Allow"
            and _allows_web_identity(as_list(first(s.get("actions"))))
        ]
        if not relevant:
            return CheckResult.UNKNOWN
        for statement in relevant:
            conditions = []
            for entry in as_list(statement.get("condition")):
                block = first(entry)
                if not isinstance(block, dict):
                    continue
                variable = first(block.get("variable"))
                if is_unresolved(variable) and not str(variable).endswith((":sub", ":aud")):
                    return CheckResult.UNKNOWN
                conditions.append(
                    (first(block.get("test")), str(variable), as_list(first(block.get("values"))))
                )
            if not judge(conditions):
                return CheckResult.FAILED
        return CheckResult.PASSED


check = WebIdentityTrustIsExact()
data_check = WebIdentityTrustDocumentIsExact()
