"""The two sides every contract reads: the session's offline plan of infra/ and the committed dist/ YAML.

Plan values unknown before apply (ARNs, security group IDs) are read where the plan shows them: the
configuration's expressions name what each argument references.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import yaml

from tools.common import REPO_ROOT

# dist/knative/ is for a Knative cluster, not the EKS cluster infra/ plans.
DIST_FOLDERS = ("dev", "dev-cluster", "prod", "prod-cluster")


def dist_objects() -> list[dict]:
    return [
        document
        for folder in DIST_FOLDERS
        for path in sorted((REPO_ROOT / "dist" / folder).glob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if document
    ]


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    found = [o for o in objects if o["kind"] == kind]
    assert found, f"dist/ has no {kind}"
    return found


def selects(selector: dict, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels and matchExpressions) selects pods with ``labels``."""
    operators = {
        "In": lambda key, values: labels.get(key) in values,
        "NotIn": lambda key, values: labels.get(key) not in values,
        "Exists": lambda key, _values: key in labels,
        "DoesNotExist": lambda key, _values: key not in labels,
    }
    return selector.get("matchLabels", {}).items() <= labels.items() and all(
        operators[e["operator"]](e["key"], e.get("values", [])) for e in selector.get("matchExpressions", [])
    )


def change(plan: dict, address: str) -> dict:
    found = [rc["change"] for rc in plan["resource_changes"] if rc["address"] == address]
    assert len(found) == 1, f"{address} is not in the plan"
    return found[0]


def after(plan: dict, address: str) -> dict:
    return change(plan, address)["after"]


def module_call(plan: dict, name: str) -> dict:
    return plan["configuration"]["root_module"]["module_calls"][name]


def resource_config(plan: dict, module: str, address: str) -> dict:
    found = [r for r in module_call(plan, module)["module"]["resources"] if r["address"] == address]
    assert len(found) == 1, f"{address} is not configured in module {module}"
    return found[0]


def references(expression: dict) -> list[str]:
    return expression.get("references", [])


def wired(plan: dict, module: str, argument: str) -> list[str]:
    """What the root passes to a module's argument."""
    return references(module_call(plan, module)["expressions"].get(argument, {}))


def output_source(plan: dict, module: str, output: str) -> list[str]:
    """What a module's output is made of."""
    return references(module_call(plan, module)["module"]["outputs"][output]["expression"])


def broken(plan: dict, break_it: Callable[[dict], None]) -> dict:
    copied = copy.deepcopy(plan)
    break_it(copied)
    return copied
