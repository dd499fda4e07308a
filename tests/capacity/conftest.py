"""Helpers for the capacity tests: the inputs `make capacity` documents, read from the Makefile itself."""

from __future__ import annotations

import shlex
import subprocess

from tools.common import REPO_ROOT


def make_capacity_arguments():
    """The arguments `make capacity` passes (its documented defaults), as `make -n` prints them."""
    printed = subprocess.run(
        ["make", "-s", "-n", "capacity"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.replace("\\\n", " ")
    line = next(line for line in printed.splitlines() if "-m tools.load.capacity" in line)
    tokens = shlex.split(line)
    return tokens[tokens.index("tools.load.capacity") + 1 :]
