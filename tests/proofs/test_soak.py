"""A minute of steady, mixed load on one replica: every answer as its kind requires, memory flat."""

from __future__ import annotations

import pytest

from tools.load.soak import CONNECTIONS, DEFAULT_SECONDS, MAX_GROWTH_BYTES, PAUSE_MS, soak, summary

pytestmark = [pytest.mark.slow, pytest.mark.system, pytest.mark.alone]


def test_steady_load_for_a_minute_keeps_answers_right_and_memory_flat(wrk, publish, tmp_path):  # noqa: ARG001
    report = soak(seconds=DEFAULT_SECONDS, workdir=tmp_path)
    publish("soak", report, summary(report))
    assert report["socket_errors"] == 0
    assert report["unexpected_statuses"] == {}
    # Paced at most CONNECTIONS x 1000 / PAUSE_MS a second; a fifth of that still is a real load, even
    # on a machine busy with other work.
    assert report["requests_per_second"] >= CONNECTIONS * 1000 / PAUSE_MS / 5
    assert report["growth_bytes"] < MAX_GROWTH_BYTES, (
        f"RSS grew {report['growth_bytes']} bytes: {report['rss_samples_mib']}"
    )
