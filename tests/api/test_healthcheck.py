"""The container HEALTHCHECK command: exit 0 against a live server, 1 with a reason when nothing answers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tools.common import REPO_ROOT
from tools.load.service import free_port


def _healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREDICTOR_PORT": str(port)}
    return subprocess.run(
        [sys.executable, "-m", "api.healthcheck"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.slow
def test_healthcheck_passes_against_a_live_server(live_service):
    assert _healthcheck(live_service.port).returncode == 0


def test_healthcheck_fails_with_a_reason_when_nothing_listens():
    result = _healthcheck(free_port())
    assert result.returncode == 1
    assert "Connection refused" in result.stderr
