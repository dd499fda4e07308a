"""Shared by the proofs: the system tools they drive, where their reports go, a summary after the run.

Each proof writes its numbers to ``build/proofs/<name>.json`` and a few lines that pytest prints at the
end of the session (captured output would hide them otherwise).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tools.common import REPO_ROOT, write_json
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


@pytest.fixture(scope="session")
def publish(request: pytest.FixtureRequest):
    """``publish(name, report, summary)``: write the JSON report, queue its summary for the end of the run."""

    def _publish(name: str, report: dict[str, Any], summary: str) -> Path:
        path = write_json(REPORT_DIR / f"{name}.json", report)
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
