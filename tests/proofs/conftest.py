"""Shared by the proofs: the system tools they drive, where their reports go, a summary after the run.

Each proof writes its numbers to ``build/proofs/<name>.json`` and a few lines beside it that pytest prints
at the end of the session (captured output would hide them otherwise); files, because under pytest-xdist
the proofs run in a worker and the summary is printed by the controller.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tools.common import REPO_ROOT, write_atomic, write_json
from tools.load.haproxy import find_haproxy

REPORT_DIR = REPO_ROOT / "build" / "proofs"
_STARTED = pytest.StashKey[float]()


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
def publish():
    """``publish(name, report, summary)``: write the JSON report and, beside it, its summary for the end."""

    def _publish(name: str, report: dict[str, Any], summary: str) -> Path:
        path = write_json(REPORT_DIR / f"{name}.json", report)
        write_atomic(REPORT_DIR / f"{name}.summary.txt", f"{summary}\n  report: {path}\n")
        print(summary)  # noqa: T201 - also shown with -s, next to the test
        return path

    return _publish


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    started = config.stash.get(_STARTED, time.time())
    summaries = sorted(path for path in REPORT_DIR.glob("*.summary.txt") if path.stat().st_mtime >= started)
    if summaries:
        terminalreporter.section("proofs: zero-downtime rollout, drain, fuzzing, soak")
        for path in summaries:
            terminalreporter.write(path.read_text(encoding="utf-8"))
