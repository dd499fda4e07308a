"""What a plan cannot show: the values that are unknown until apply, and the decision each one gets.

No feature may be trusted with a value that is only "known after apply", so this module decides every
unknown value a rule depends on from the plan's own `after_unknown` and `configuration`: POL_PLAN_002
(IAM documents, trust policies included, known at plan time) and POL_PLAN_003 (an
unknown KMS key attribute is set from an aws_kms_key). policies/README.md says why each decision is so.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies.model import Evaluation, Verdict, evaluations

DOCUMENTS_KNOWN = "POL_PLAN_002"
KEYS_FROM_KMS = "POL_PLAN_003"
TITLES = {
    DOCUMENTS_KNOWN: "IAM documents are known at plan time",
    KEYS_FROM_KMS: "A KMS key attribute unknown at plan time is set from an aws_kms_key",
}

# Resource type -> the attribute holding a JSON policy document.
IAM_DOCUMENTS: dict[str, str] = {
    "aws_iam_role": "assume_role_policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_kms_key": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_ecr_repository_policy": "policy",
    "aws_secretsmanager_secret_policy": "policy",
}
# Resource type -> path of its KMS key attribute (ints index nested blocks).
KMS_KEY_ATTRIBUTES: dict[str, tuple[str | int, ...]] = {
    "aws_sns_topic": ("kms_master_key_id",),
    "aws_sqs_queue": ("kms_master_key_id",),
    "aws_cloudwatch_log_group": ("kms_key_id",),
    "aws_secretsmanager_secret": ("kms_key_id",),
    "aws_eks_cluster": ("encryption_config", 0, "provider", 0, "key_arn"),
}
# Not listed: aws_ecr_repository's kms_key. It is computed (the account's aws/ecr key) when unset, so
# unknown proves nothing either way; the ECR feature requires encryption_type KMS, which the plan knows.
KMS_KEY_SOURCES = frozenset({"aws_kms_key", "aws_kms_replica_key", "data.aws_kms_key"})
_INDEX = re.compile(r"\[[^\]]*\]")
_MAX_DEPTH = 16


@dataclass(frozen=True)
class PlanFacts:
    evaluations: list[Evaluation]
    resources: int
    unknown_keys: list[str]  # "address.attribute <- source" for every accepted unknown key


def split_address(address: str) -> tuple[list[str], list[str]]:
    """module.eks.module.role["x"].aws_iam_role.this -> (["eks", "role"], ["aws_iam_role", "this"])."""
    parts, calls = _INDEX.sub("", address).split("."), []
    while len(parts) > 1 and parts[0] == "module":
        calls, parts = [*calls, parts[1]], parts[2:]
    return calls, parts


def module(configuration: Mapping[str, Any], calls: Sequence[str]) -> tuple[Mapping[str, Any] | None, str]:
    """A module instance's configuration (None when the plan has none) and its directory, relative to the
    judged root (infra/modules/...)."""
    found: Mapping[str, Any] | None = configuration.get("root_module", {})
    directory = "infra"
    for call in calls:
        entry = (found or {}).get("module_calls", {}).get(call, {})
        source = str(entry.get("source", "?"))
        directory = (
            posixpath.normpath(posixpath.join(directory, source)) if source.startswith(".") else source
        )
        found = entry.get("module")
    return found, directory


def walk(node: Any, path: Sequence[str | int]) -> Any:  # noqa: ANN401 -- plan JSON is untyped
    """node[path...] through dicts and lists; None when absent; True as soon as a block is all unknown."""
    for step in path:
        if node is True:
            return True
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and len(node) > step else None
        else:
            node = node.get(step) if isinstance(node, dict) else None
    return node


def resource_config(
    configuration: Mapping[str, Any], calls: Sequence[str], type_: str, name: str
) -> Mapping[str, Any] | None:
    resources = (module(configuration, calls)[0] or {}).get("resources", [])
    return next((r for r in resources if r.get("type") == type_ and r.get("name") == name), None)


def _sources(
    configuration: Mapping[str, Any], calls: Sequence[str], references: Iterable[str], depth: int = 0
) -> set[str]:
    """The resource types (data sources as data.<type>) a list of references ends at; "?" when a reference
    cannot be followed in the plan (locals, root variables, for_each values)."""
    if depth > _MAX_DEPTH:
        return {"?"}
    found: set[str] = set()
    for reference in references:
        parts = _INDEX.sub("", reference).split(".")
        if parts[0] == "module":
            if len(parts) < 3:  # noqa: PLR2004 -- "module.x" names no output; its "module.x.out" sibling does
                continue
            inner = [*calls, parts[1]]
            refs = walk(module(configuration, inner)[0], ("outputs", parts[2], "expression", "references"))
            found |= (_sources(configuration, inner, refs, depth + 1) if refs else set()) or {"?"}
        elif parts[0] == "var" and calls:
            parent = module(configuration, calls[:-1])[0]
            refs = walk(parent, ("module_calls", calls[-1], "expressions", parts[1], "references"))
            found |= (_sources(configuration, calls[:-1], refs, depth + 1) if refs else set()) or {"?"}
        elif parts[0] == "data" and len(parts) >= 3:  # noqa: PLR2004 -- data.<type>.<name>
            found.add(f"data.{parts[1]}")
        elif parts[0] in {"var", "local", "each", "count", "path", "self", "terraform"}:
            found.add("?")
        elif len(parts) >= 2:  # noqa: PLR2004 -- <type>.<name>
            found.add(parts[0])
    return found


def analyse(plan: Mapping[str, Any]) -> PlanFacts:
    changes = [
        change
        for change in plan.get("resource_changes", [])
        if change.get("mode") == "managed" and change.get("change", {}).get("actions") != ["delete"]
    ]
    configuration = plan.get("configuration", {})
    verdicts: list[Verdict] = []
    accepted_keys: list[str] = []
    for change in changes:
        type_, address = change["type"], change["address"]
        after_unknown = change.get("change", {}).get("after_unknown", {})
        calls = split_address(address)[0]
        if type_ in IAM_DOCUMENTS:
            attribute, source = IAM_DOCUMENTS[type_], module(configuration, calls)[1]
            message = (
                f"{address}.{attribute} is unknown until apply (declared in {source}): "
                "build it from values known at plan time (names, not resource attributes)"
            )
            verdicts.append((DOCUMENTS_KNOWN, message, walk(after_unknown, (attribute,)) is True))
        if type_ not in KMS_KEY_ATTRIBUTES:
            continue
        path = KMS_KEY_ATTRIBUTES[type_]
        attribute = ".".join(str(step) for step in path)
        if walk(after_unknown, path) is not True:
            verdicts.append((KEYS_FROM_KMS, f"{address}.{attribute} is known at plan time", False))
            continue
        config = resource_config(configuration, calls, type_, change["name"])
        refs = walk(config, ("expressions", *path, "references")) or []
        sources = _sources(configuration, calls, refs) if refs else {"the provider (not configured)"}
        from_kms = bool(sources) and sources <= KMS_KEY_SOURCES
        accepted_keys += [f"{address}.{attribute} <- {', '.join(sorted(sources))}"] if from_kms else []
        message = (
            f"{address}.{attribute} is unknown until apply and is not set from an "
            f"aws_kms_key (it comes from: {', '.join(sorted(sources)) or 'nothing'})"
        )
        verdicts.append((KEYS_FROM_KMS, message, not from_kms))
    return PlanFacts(evaluations(TITLES, verdicts), len(changes), accepted_keys)
