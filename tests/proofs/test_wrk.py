"""The one wrk wrapper: closed loop, paced by a pause, at a scheduled rate, in the background, and with a
custom script's counts, each read from the same report."""

from __future__ import annotations

import time

import pytest

from tools.load.bench import make_run_command
from tools.load.service import free_port, running_service
from tools.load.wrk import Wrk, run_wrk

pytestmark = [pytest.mark.system, pytest.mark.alone]


@pytest.fixture(scope="module")
def floor(tmp_path_factory):
    """The service as `make run` starts it: its GET /predict is the cheapest answer here (fixed bytes), so
    the figures are wrk's, not the server's."""
    log = tmp_path_factory.mktemp("floor") / "service.log"
    port = free_port()
    with running_service(log, command=make_run_command(port), port=port, ready_path="/ready") as service:
        yield service.url + "/predict"


def test_a_closed_loop_run_reports_counts_and_percentiles(wrk, floor):  # noqa: ARG001
    result = run_wrk(floor, seconds=1, connections=4)
    assert result.requests > 0
    assert result.failed == 0
    assert 0 < result.p50_us <= result.p90_us <= result.p99_us <= result.max_us
    assert result.in_flight > 0


def test_a_scheduled_rate_is_offered_not_exceeded(wrk, floor):  # noqa: ARG001
    result = run_wrk(floor, seconds=2, connections=8, rate=200)
    assert 0.8 * 200 <= result.requests_per_second <= 1.1 * 200, result


def test_a_pause_between_requests_bounds_the_rate(wrk, floor):  # noqa: ARG001
    # Two connections pausing 50 ms each: at most 40 requests a second.
    result = run_wrk(floor, seconds=2, connections=2, pause_ms=50)
    assert 0 < result.requests_per_second <= 40


def test_background_load_stops_when_told_and_a_script_counts_responses(wrk, floor):  # noqa: ARG001
    counting = (
        "counts = {}\n"
        "function response(status, headers, body)\n"
        '  counts["s" .. status] = (counts["s" .. status] or 0) + 1\n'
        "end\n"
    )
    with Wrk(floor, seconds=60, connections=2, threads=2, requests_lua=counting) as load:
        time.sleep(1)
        result = load.stop()
    assert result.duration_us < 30e6, "stopped long before its 60 s"
    assert result.counts == {"s200": result.requests}


def test_impossible_options_are_refused_before_wrk_starts():
    with pytest.raises(ValueError, match="rate > 0"):
        Wrk("http://127.0.0.1:1/", seconds=1, connections=1, rate=0)
    with pytest.raises(ValueError, match="seconds, connections and threads >= 1"):
        Wrk("http://127.0.0.1:1/", seconds=0, connections=1)
