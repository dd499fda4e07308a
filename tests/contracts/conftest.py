"""What every contract reads: the committed dist/ of the environment the offline plan describes, and
helpers that read the plan. The plan is the session's (``plans`` in tests/conftest.py): never planned here."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import yaml

from manifests_py.knative_like import CANARY
from tools.common import REPO_ROOT

# infra/terraform.tfvars.example plans the production environment, which dist/prod/ deploys into.
DIST_FOLDER = REPO_ROOT / "dist" / "prod"


@pytest.fixture(scope="session")
def dist() -> list[dict]:
    """dist/prod/'s objects, in file order."""
    documents: list[dict] = []
    for path in sorted(DIST_FOLDER.glob("*.yaml")):
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    return documents


def one(objects: list[dict], kind: str) -> dict:
    """The object of ``kind``; of a kind a release has twice, the stable track's (tests/manifests hold the
    canary's pods to the stable pods' spec)."""
    found = [o for o in objects if o["kind"] == kind and not o["metadata"]["name"].endswith(f"-{CANARY}")]
    assert len(found) == 1, f"{len(found)} {kind} objects in {DIST_FOLDER}"
    return found[0]


def broken(document: object, break_it: Callable[..., None]) -> object:
    copied = copy.deepcopy(document)
    break_it(copied)
    return copied


def change_after(plan: dict, address: str) -> dict:
    found = [rc["change"]["after"] for rc in plan["resource_changes"] if rc["address"] == address]
    assert len(found) == 1, f"{address} is not in the plan"
    return found[0]


def output(plan: dict, name: str) -> object:
    return plan["planned_values"]["outputs"][name]["value"]


def _module(plan: dict, path: tuple[str, ...]) -> dict:
    module = plan["configuration"]["root_module"]
    for name in path:
        module = module["module_calls"][name]["module"]
    return module


def _value_of(plan: dict, path: tuple[str, ...], reference: str) -> object:
    """The planned value of ``reference`` inside module ``path``, through the outputs that expose it."""
    if not path:
        matches = [
            name
            for name, out in plan["configuration"]["root_module"]["outputs"].items()
            if out["expression"].get("references", [None])[0] == reference
        ]
        assert matches, f"no root output exposes {reference}: its value cannot be read from the plan"
        return output(plan, matches[0])
    outputs = _module(plan, path).get("outputs", {})
    exposed = [n for n, out in outputs.items() if out["expression"].get("references", [None])[0] == reference]
    assert exposed, f"module.{'.module.'.join(path)} exposes no output of {reference}"
    return _value_of(plan, path[:-1], f"module.{path[-1]}.{exposed[0]}")


def module_input(plan: dict, path: tuple[str, ...], name: str) -> object:
    """What module call ``path`` passes as ``name``: a constant, or followed through var. pass-throughs
    and the outputs that expose the local it comes from, to its planned value."""
    while True:
        parent = _module(plan, path[:-1])
        expression = parent["module_calls"][path[-1]]["expressions"].get(name)
        if expression is None:  # not passed: the module's default
            return _module(plan, path)["variables"][name]["default"]
        if "constant_value" in expression:
            return expression["constant_value"]
        reference = expression["references"][0]
        if reference.startswith("var.") and len(path) > 1:
            path, name = path[:-1], reference.removeprefix("var.")
            continue
        return _value_of(plan, path[:-1], reference)
