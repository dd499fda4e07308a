"""Versions of the isolated tools (checkov, hadolint, zizmor, terraform-compliance), read from the Makefile.

The Makefile is where each is pinned once; tests that run a tool directly take its pin from there.
"""

from __future__ import annotations

import re

from tests.support.service import REPO_ROOT

UV = REPO_ROOT / ".tools" / "bin" / "uv"


def pinned(variable: str) -> str:
    """The value of ``VARIABLE := value`` in the Makefile; AssertionError if it is not pinned there."""
    match = re.search(rf"^{variable} := (\S+)$", (REPO_ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, f"the Makefile must pin {variable}"
    return match.group(1)


def requirement(package: str, variable: str) -> str:
    return f"{package}=={pinned(variable)}"
