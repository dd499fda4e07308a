"""preStop and grace period: computed in one place from the service card, and the relation always holds."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from manifests_py.shutdown import EXIT_MARGIN_SECONDS, PROPAGATION_MARGIN_SECONDS, ShutdownTimings


def test_timings_from_the_card(card):
    timings = ShutdownTimings.for_card(card)
    assert timings.deregistration_delay_seconds == card.load_balancer.deregistration_delay_seconds
    assert timings.drain_seconds == card.server.drain_seconds
    assert (
        timings.pre_stop_sleep_seconds
        == card.load_balancer.deregistration_delay_seconds + PROPAGATION_MARGIN_SECONDS
    )
    assert timings.termination_grace_period_seconds == (
        timings.pre_stop_sleep_seconds + card.server.drain_seconds + EXIT_MARGIN_SECONDS
    )


@pytest.mark.parametrize(("delay", "drain"), [(0, 0), (15, 10), (30, 5), (300, 120)])
def test_timings_follow_the_card_when_it_changes(card, delay, drain):
    changed = replace(
        card,
        load_balancer=replace(card.load_balancer, deregistration_delay_seconds=delay),
        server=replace(card.server, drain_seconds=drain),
    )
    timings = ShutdownTimings.for_card(changed)
    assert timings.pre_stop_sleep_seconds > delay
    assert timings.termination_grace_period_seconds > timings.pre_stop_sleep_seconds + drain


def test_a_pre_stop_within_the_deregistration_delay_is_refused():
    with pytest.raises(
        ValueError, match=r"preStop sleep \(15 s\) must be longer than .* deregistration delay \(15 s\)"
    ):
        ShutdownTimings(
            deregistration_delay_seconds=15,
            pre_stop_sleep_seconds=15,
            drain_seconds=10,
            termination_grace_period_seconds=60,
        )


def test_a_grace_period_that_cuts_the_drain_is_refused():
    with pytest.raises(
        ValueError, match=r"terminationGracePeriodSeconds \(30 s\) must exceed preStop \(20 s\) \+ drain"
    ):
        ShutdownTimings(
            deregistration_delay_seconds=15,
            pre_stop_sleep_seconds=20,
            drain_seconds=10,
            termination_grace_period_seconds=30,
        )
