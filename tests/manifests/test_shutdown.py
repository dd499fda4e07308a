"""preStop and grace period: computed in one place from the service card, and the relation always holds
(the two derived timings cannot be set, so no combination of card values can break it)."""

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


@pytest.mark.parametrize(("delay", "drain"), [(0, 0), (15, 10), (30, 5), (300, 120), (3600, 0), (0, 3600)])
def test_timings_follow_the_card_when_it_changes(card, delay, drain):
    changed = replace(
        card,
        load_balancer=replace(card.load_balancer, deregistration_delay_seconds=delay),
        server=replace(card.server, drain_seconds=drain),
    )
    timings = ShutdownTimings.for_card(changed)
    assert timings.pre_stop_sleep_seconds > delay
    assert timings.termination_grace_period_seconds > timings.pre_stop_sleep_seconds + drain


def test_the_derived_timings_cannot_be_set_to_break_the_relation():
    with pytest.raises(TypeError, match="pre_stop_sleep_seconds"):
        ShutdownTimings(deregistration_delay_seconds=15, drain_seconds=10, pre_stop_sleep_seconds=15)
