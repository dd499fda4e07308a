"""Zero-downtime rolling replacement rehearsed behind HAProxy under load (real timings: ``make rehearse``).

Both rollouts run once per session (module fixture); each test checks one property of the report.
"""

from __future__ import annotations

import pytest

from tools.load.rehearsal import DEFAULT_MANIFESTS, DEFAULT_TIME_SCALE, MIN_REQUESTS, rehearse, summary
from tools.load.rollout_spec import load_rollout_spec

pytestmark = [pytest.mark.slow, pytest.mark.system, pytest.mark.alone]


@pytest.fixture(scope="module")
def report(haproxy, wrk, publish, tmp_path_factory):  # noqa: ARG001 - the tools must be installed
    result = rehearse(
        manifests=DEFAULT_MANIFESTS,
        time_scale=DEFAULT_TIME_SCALE,
        workdir=tmp_path_factory.mktemp("rehearsal"),
    )
    publish("rehearsal", result, summary(result))
    return result


@pytest.fixture(scope="module")
def with_pre_stop(report):
    return report["runs"]["with_pre_stop"]


@pytest.fixture(scope="module")
def without_pre_stop(report):
    return report["runs"]["without_pre_stop"]


def test_no_request_fails_across_the_rollout_with_the_pre_stop_sleep(with_pre_stop):
    counts = {
        k: with_pre_stop[k] for k in ("non2xx", "connect_errors", "read_errors", "write_errors", "timeouts")
    }
    assert with_pre_stop["failed"] == 0, counts
    assert with_pre_stop["proxy"]["hrsp_5xx"] == 0
    assert all(not reason.startswith("5") for reason in with_pre_stop["proxy_abnormal"]), with_pre_stop[
        "proxy_abnormal"
    ]
    assert with_pre_stop["requests"] >= MIN_REQUESTS


def test_every_replica_was_replaced_and_each_old_one_drained_and_exited_cleanly(report, with_pre_stop):
    replicas = with_pre_stop["replicas"]
    count = report["deployment"]["replicas"]
    old, new = replicas[:count], replicas[count:]
    assert len(new) == count, "one new replica per old one"
    for replica in old:
        assert replica["deregistered"] is not None
        waited = replica["sigterm"] - replica["deregistered"]
        pre_stop = report["timings_used"]["pre_stop_seconds"]
        # Times are rounded to the millisecond, hence the tolerance below the sleep's length.
        assert pre_stop - 0.002 <= waited < pre_stop + 2, "SIGTERM comes a preStop sleep after deregistration"
        assert replica["exit_code"] == 0, replica
        assert not replica["killed_after_grace"], replica
    for replica in new:
        assert replica["admitted"] is not None
        assert replica["sigterm"] is None
    assert all(replica["server_errors_logged"] == 0 for replica in replicas)
    assert all(replica["requests_logged"] > 0 for replica in replicas), "load reached every replica"


def _capacity_over_time(replicas, *, in_rotation_until):
    """(pods not terminating, replicas in rotation) at each moment something changed."""
    moments = sorted(
        {
            t
            for r in replicas
            for t in (r["started"], r["admitted"], r["terminating"], r["deregistered"])
            if t is not None
        }
    )
    for moment in moments:
        pods = sum(1 for r in replicas if r["started"] <= moment and not _termination_began(r, moment))
        serving = sum(
            1
            for r in replicas
            if r["admitted"] is not None and r["admitted"] <= moment < in_rotation_until(r)
        )
        yield moment, pods, serving


def _termination_began(replica, moment):
    return replica["terminating"] is not None and replica["terminating"] <= moment


def test_the_rollout_stayed_within_max_surge_and_max_unavailable(report, with_pre_stop):
    spec = report["deployment"]
    replicas = with_pre_stop["replicas"]

    def until(replica):
        return replica["deregistered"] if replica["deregistered"] is not None else float("inf")

    rollout = [(m, p, s) for m, p, s in _capacity_over_time(replicas, in_rotation_until=until) if m >= 0]
    assert rollout, "the timeline has events after the load started"
    assert max(p for _, p, _ in rollout) <= spec["replicas"] + spec["max_surge"]
    assert min(s for _, _, s in rollout) >= spec["replicas"] - spec["max_unavailable"]


def test_without_the_pre_stop_sleep_requests_fail(without_pre_stop):
    # The control experiment: if this found nothing to lose, the zero above would prove nothing.
    assert without_pre_stop["failed"] > 0, without_pre_stop
    terminated = {r["name"] for r in without_pre_stop["replicas"] if r["sigterm"] is not None}
    refused = {
        reason.split()[2] for reason in without_pre_stop["proxy_abnormal"] if reason.startswith("503 SC")
    }
    assert refused, without_pre_stop["proxy_abnormal"]
    assert refused <= terminated, "only replicas that got SIGTERM while still in rotation refused requests"
    for replica in without_pre_stop["replicas"]:
        if replica["sigterm"] is not None:
            assert replica["deregistered"] is None
            assert replica["marked_down_by_checks"] >= replica["sigterm"]
            assert replica["exit_code"] == 0


def test_the_rollout_followed_the_committed_deployment(report):
    spec = load_rollout_spec(DEFAULT_MANIFESTS)
    scale = report["time_scale"]
    timings = report["timings_used"]
    assert report["deployment"]["source"] == spec.source
    assert timings["pre_stop_seconds"] == pytest.approx(spec.pre_stop_seconds * scale)
    assert timings["termination_grace_seconds"] == pytest.approx(spec.termination_grace_seconds * scale)
    assert timings["termination_grace_seconds"] > timings["pre_stop_seconds"] + timings["drain_seconds"]
