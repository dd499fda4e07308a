#!/usr/bin/env python3
"""Copy a plan's JSON to a new file on one line, as `terraform show -json` writes it.

terraform-compliance reads a plan JSON's first line only (or, when there are several, the second, taking
the first for a wrapper's noise) and then rewrites the file in place. Handing it a one-line copy keeps a
pretty-printed plan readable and the original file untouched.

Usage: compact_plan.py PLAN_JSON OUT. Exit status 2 when PLAN_JSON is not a terraform plan's JSON.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

USAGE = "usage: compact_plan.py PLAN_JSON OUT"
EXIT_INVALID = 2


def main(argv: list[str]) -> int:
    if len(argv) != 2:  # noqa: PLR2004 -- two paths
        sys.stderr.write(f"{USAGE}\n")
        return EXIT_INVALID
    source, target = Path(argv[0]), Path(argv[1])
    try:
        plan = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        sys.stderr.write(f"error: {source}: {error}\n")
        return EXIT_INVALID
    if not isinstance(plan, dict) or "format_version" not in plan:
        sys.stderr.write(f"error: {source} is not a plan's JSON (`terraform show -json PLANFILE`)\n")
        return EXIT_INVALID
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=target.parent, delete=False, suffix=".tmp", encoding="utf-8"
    ) as out:
        json.dump(plan, out, separators=(",", ":"))
    Path(out.name).replace(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
