"""Inputs and outputs tables of each configuration's README, generated from its .tf files.

    python -m tools.infra.tfdocs          # rewrite the tables in place (make infra-docs)
    python -m tools.infra.tfdocs --check  # exit 1 (naming the README) when one is stale

The tables live between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`; the prose around them
is hand-written. Blocks are read the way `terraform fmt` lays them out: a top-level `variable "x" {`
or `output "x" {` line, closed by a `}` in the first column.
"""
# ruff: noqa: T201 -- a command-line tool: printing is its output

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.common import REPO_ROOT, write_atomic
from tools.infra import tfenv

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
_BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{\n(.*?)^\}', re.MULTILINE | re.DOTALL)
_DESCRIPTION = re.compile(r'^  description = "((?:[^"\\]|\\.)*)"', re.MULTILINE)


class DocsError(RuntimeError):
    """A configuration cannot be documented (e.g. a variable without a description)."""


@dataclass(frozen=True)
class Block:
    kind: str
    name: str
    description: str
    type: str
    default: str | None


def _display(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _attribute(body: str, name: str) -> str | None:
    """The source of a top-level attribute on one line: up to the next line at the block's own indent that
    is not a closing bracket (a multi-line value's other lines are indented deeper)."""
    found = re.search(rf"^  {name}\s*=\s*(.*?)\n(?=  [^\s)\]}}]|\Z)", body, re.MULTILINE | re.DOTALL)
    return re.sub(r"\s+", " ", found.group(1).strip()) if found else None


def blocks(config_dir: Path) -> list[Block]:
    found: list[Block] = []
    for tf_file in sorted(config_dir.glob("*.tf")):
        for kind, name, body in _BLOCK.findall(tf_file.read_text()):
            described = _DESCRIPTION.search(body)
            if described is None:
                msg = f"{_display(tf_file)}: {kind} {name} has no description"
                raise DocsError(msg)
            type_source = _attribute(body, "type") if kind == "variable" else ""
            if type_source is None:
                msg = f"{_display(tf_file)}: variable {name} has no type"
                raise DocsError(msg)
            default = _attribute(body, "default") if kind == "variable" else None
            found.append(Block(kind, name, described.group(1).replace('\\"', '"'), type_source, default))
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(config_dir: Path) -> str:
    items = blocks(config_dir)
    inputs = sorted((b for b in items if b.kind == "variable"), key=lambda b: (b.default is not None, b.name))
    outputs = sorted((b for b in items if b.kind == "output"), key=lambda b: b.name)
    lines = [BEGIN, "## Inputs", "", "| Name | Description | Type | Default |", "|---|---|---|---|"]
    for b in inputs:
        default = "required" if b.default is None else f"`{_cell(b.default)}`"
        lines.append(f"| `{b.name}` | {_cell(b.description)} | `{_cell(b.type)}` | {default} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    lines += [f"| `{b.name}` | {_cell(b.description)} |" for b in outputs]
    lines.append(END)
    return "\n".join(lines)


def updated_readme(config_dir: Path) -> tuple[Path, str, str]:
    readme = config_dir / "README.md"
    if not readme.is_file():
        msg = f"{_display(readme)} is missing"
        raise DocsError(msg)
    current = readme.read_text()
    if BEGIN not in current or END not in current:
        msg = f"{_display(readme)} has no {BEGIN} ... {END} section"
        raise DocsError(msg)
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return readme, current, head + render(config_dir) + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail when a README's tables are stale")
    args = parser.parse_args(argv)
    stale: list[str] = []
    try:
        for config_dir in tfenv.config_dirs():
            readme, current, wanted = updated_readme(config_dir)
            if current == wanted:
                continue
            if args.check:
                stale.append(_display(readme))
                continue
            write_atomic(readme, wanted)
            print(f"updated {_display(readme)}")
    except DocsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if stale:
        print(f"stale tables (run make infra-docs): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
