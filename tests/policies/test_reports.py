"""Reports stay readable whatever a tool printed: colour codes and control characters included."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from policies.model import GateResult
from policies.reports import write_junit
from tools.common import strip_ansi

# What zizmor printed on a broken workflow when CI=true: it colours its output even through a pipe.
COLOURED = "\x1b[1m\x1b[31mfatal\x1b[39m\x1b[0m: no audit was performed"


def test_tool_output_loses_its_colour_codes():
    assert strip_ansi(COLOURED) == "fatal: no audit was performed"


def test_junit_is_well_formed_with_control_characters_in_an_error(tmp_path):
    result = GateResult(name="zizmor", errors=[f"{COLOURED}\x00 and a bell \x07"])
    path = tmp_path / "junit.xml"
    write_junit([result], path)
    error = ET.parse(path).getroot().find("testsuite/testcase/error")  # noqa: S314 - our own report
    assert error is not None
    assert "no audit was performed" in error.text
    assert "\x1b" not in error.text
    assert "\x07" not in error.get("message")
