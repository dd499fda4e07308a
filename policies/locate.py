"""From a planned resource address to the Terraform file and line that declares it (for SARIF locations)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from policies.plan_facts import module_source
from policies.workspace import Root

ADDRESS = re.compile(
    r"((?:module\.[A-Za-z0-9_-]+(?:\[[^\]\s]*\])?\.)*(?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)"
)
_INDEX = re.compile(r"\[[^\]]*\]")


@cache
def _declarations(directory: Path) -> dict[tuple[str, str], tuple[Path, int]]:
    found: dict[tuple[str, str], tuple[Path, int]] = {}
    pattern = re.compile(r'^\s*(resource|data)\s+"([^"]+)"\s+"([^"]+)"')
    for tf in sorted(directory.glob("*.tf")):
        for number, line in enumerate(tf.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            match = pattern.match(line)
            if match:
                kind, type_, name = match.groups()
                found[(type_ if kind == "resource" else f"data.{type_}", name)] = (tf, number)
    return found


def declaration(root: Root, plan: Mapping[str, Any], address: str) -> tuple[str, int] | None:
    """(path relative to root, line) of the block that declares `address`, or None."""
    parts = _INDEX.sub("", address).split(".")
    calls = [parts[i + 1] for i in range(0, len(parts) - 1, 2) if parts[i] == "module"]
    rest = parts[2 * len(calls) :]
    if len(rest) < 2:  # noqa: PLR2004 -- <type>.<name>
        return None
    key = (f"data.{rest[1]}", rest[2]) if rest[0] == "data" and len(rest) > 2 else (rest[0], rest[1])  # noqa: PLR2004
    directory = root.path / module_source(plan.get("configuration", {}), calls)
    if not directory.is_dir():
        return None
    found = _declarations(directory.resolve()).get(key)
    if found is None:
        return None
    return root.relative(found[0]), found[1]


def first_address(text: str) -> str | None:
    match = ADDRESS.search(text)
    return match.group(1) if match else None
