"""The README documents every setting the service reads, so the table can't drift from the code."""

from __future__ import annotations

import re

from api.settings import ENV_PREFIX, Settings
from tools.common import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_setting_and_no_stale_one():
    variables = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.__struct_fields__}
    documented = set(re.findall(rf"{ENV_PREFIX}[A-Z][A-Z_]*", README))
    assert documented == variables


def test_readme_shows_the_two_commands_first():
    first_block = README.split("```", 2)[1]
    assert "make run" in first_block
    assert "make test" in first_block
