"""Shared by the proofs: the system tools they drive, where their reports go, a summary after the run.

Each proof writes its numbers to ``build/proofs/<name>.json`` and a few lines that pytest prints at the
end of the session (captured output would hide them otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.service import REPO_ROOT
from tools.load.haproxy import find_haproxy

REPORT_DIR = REPO_ROOT / "build" / "proofs"
_SUMMARIES = pytest.StashKey[list[str]]()


def require_tool(name: str, path: str | None) -> str:
    """The tool's path; without it, skip on a developer machine but fail on CI, where .ci/run installs it."""
    if path:
        return path
    message = f"{name} is not installed (Debian package `{name}`; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def haproxy() -> str:
    return require_tool("haproxy", find_haproxy())


@pytest.fixture(scope="session")
def wrk() -> str:
    return require_tool("wrk", shutil.which("wrk"))


def write_report(name: str, report: dict[str, Any]) -> Path:
    """Write ``build/proofs/<name>.json`` whole (temp file, then rename) and return its path."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    path = REPORT_DIR / f"{name}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    partial.replace(path)
    return path


@pytest.fixture(scope="session")
def publish(request: pytest.FixtureRequest):
    """``publish(name, report, summary)``: write the JSON report, queue its summary for the end of the run."""

    def _publish(name: str, report: dict[str, Any], summary: str) -> Path:
        path = write_report(name, report)
        request.config.stash.setdefault(_SUMMARIES, []).append(f"{summary}\n  report: {path}")
        print(summary)  # noqa: T201 - also shown with -s, next to the test
        return path

    return _publish


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    summaries = config.stash.get(_SUMMARIES, [])
    if summaries:
        terminalreporter.section("proofs: zero-downtime rollout, drain, fuzzing, soak")
        for summary in summaries:
            terminalreporter.write_line(summary)
