"""Canary releases rehearsed behind HAProxy under load, with the deploy's own step engine; the three
releases run once (module fixture). ``make rehearse-canary`` runs them at the real timings
(REHEARSAL_TIME_SCALE=1); the report is build/proofs/canary-rehearsal.json either way."""

from __future__ import annotations

import os

import pytest

from tools.load.canary_rehearsal import (
    DEFAULT_TIME_SCALE,
    EXPOSURE_ALLOWANCE,
    EXPOSURE_TOLERANCE,
    rehearse,
    summary,
)

pytestmark = [pytest.mark.slow, pytest.mark.system, pytest.mark.alone]


@pytest.fixture(scope="module")
def report(haproxy, wrk, publish, tmp_path_factory):  # noqa: ARG001 - the tools must be installed
    time_scale = float(os.environ.get("REHEARSAL_TIME_SCALE", DEFAULT_TIME_SCALE))
    result = rehearse(workdir=tmp_path_factory.mktemp("canary"), time_scale=time_scale)
    publish("canary-rehearsal", result, summary(result))
    return result


@pytest.fixture(scope="module")
def releases(report):
    return {run["version"]: run for run in report["releases"]}


def test_a_healthy_version_is_promoted_through_every_step_with_zero_failed_requests(report, releases):
    healthy = releases["healthy"]
    assert healthy["outcome"] == "promoted", healthy["reason"]
    assert len(healthy["windows"]) == len(report["traffic"]["steps"]), "every step was judged"
    assert all(window["requests"] >= report["traffic"]["min_requests"] for window in healthy["windows"])
    assert healthy["failed"] == 0
    assert healthy["requests_to_new_version"] > 0


@pytest.mark.parametrize(("version", "limit"), [("erring", "max_error_rate"), ("slow", "max_p99_ms")])
def test_a_bad_version_is_caught_at_the_first_step_before_it_ends_and_rolled_back(
    report, releases, version, limit
):
    run = releases[version]
    assert run["outcome"] == "rolled back"
    assert run["failed_step"] == 1
    assert limit in run["reason"]
    # Fail fast: the weights went back before the first step's time was up.
    assert run["first_shift_to_weights_back_seconds"] < report["traffic"]["step_seconds"]


@pytest.mark.parametrize("version", ["erring", "slow"])
def test_the_requests_that_saw_a_bad_version_are_bounded_by_the_first_steps_share(releases, version):
    run = releases[version]
    share = run["first_step_percent"] / 100
    bound = share * run["requests_while_it_had_weight"] * (1 + EXPOSURE_TOLERANCE) + EXPOSURE_ALLOWANCE
    assert 0 < run["requests_to_new_version"] <= bound, run


def test_an_erring_version_fails_requests_only_on_its_share(releases):
    erring = releases["erring"]
    # Every 5th scoring request it answered was a 500, and only those failed at the client.
    assert 0 < erring["failed"] <= erring["requests_to_new_version"]
    assert erring["failed"] == erring["non2xx"]
