"""The canary step engine, shared by the deploy (ALB weights, CloudWatch) and the rehearsal (HAProxy).

Start the canary with the new version; at each step give it its share of the requests and judge its own
numbers while the step lasts, rolling back the moment a limit is broken (not at the end of the step);
after the last step promote: the stable workload gets the new version, then all traffic returns to it and
the canary goes back to zero. A rollback puts the weights back first (seconds), then stops the canary.
Whatever ends the run (a broken limit, a failed command, a signal), the weights and the canary are put back.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from manifests_py.props import Traffic

# How often the analysis reads the canary's numbers during a step (the deploy polls CloudWatch less often).
DEFAULT_POLL_SECONDS = 0.1
# Waits before trying the weights again in a rollback (a throttled or dropped call): a few seconds in all,
# inside what a cancelled job is given before it is killed.
WEIGHT_RETRY_SECONDS = (1.0, 2.0)


@dataclass(frozen=True)
class Window:
    """The canary's own numbers since its step began (one target group, one HAProxy backend)."""

    requests: int
    errors: int  # answered 5xx, or not at all
    p99_ms: float | None  # None: no latency known yet


class Split(Protocol):
    """Where requests go between the two versions (ALB listener, HAProxy), and the canary's numbers."""

    def shift(self, canary_percent: int) -> None:
        """Send ``canary_percent`` of the requests to the canary, the rest to the stable version."""

    def open_window(self) -> None:
        """Count the canary's requests from now on."""

    def read(self) -> Window:
        """The canary's numbers since ``open_window``."""

    def settled(self) -> bool:
        """Whether the numbers up to the step's end can be read yet (a metrics service publishes them late);
        called once the step's time is up, until it says so."""


class Workloads(Protocol):
    def start_canary(self) -> None:
        """Scale the canary up with the new version and wait until it is ready."""

    def promote(self) -> None:
        """Give the stable workload the new version (a rolling update) and wait for it."""

    def stop_canary(self) -> None:
        """Scale the canary to zero."""


class AnalysisFailed(Exception):  # noqa: N818 -- the analysis failing is the event, not an error of ours
    """A limit broke during a step; the message names the step, the limit and the measured value."""

    def __init__(self, message: str, *, step: int, window: Window) -> None:
        super().__init__(message)
        self.step = step
        self.window = window


class Cancelled(BaseException):
    """The job was cancelled (SIGTERM or SIGINT); a BaseException so nothing on the way swallows it."""


def breach(window: Window, traffic: Traffic, *, step_over: bool) -> str | None:
    """The limit ``window`` breaks, or None. A rate is judged as soon as it cannot come back under its limit
    (errors are counted against at least ``min_requests``), p99 once ``min_requests`` have been answered."""
    if window.errors > traffic.max_error_rate * max(window.requests, traffic.min_requests):
        rate = window.errors / max(window.requests, 1)
        return (
            f"error rate {rate:.1%} ({window.errors} of {window.requests} canary requests answered 5xx or "
            f"not at all) is over max_error_rate {traffic.max_error_rate:.1%}"
        )
    enough = window.requests >= traffic.min_requests
    if enough and window.p99_ms is not None and window.p99_ms > traffic.max_p99_ms:
        return f"p99 latency {window.p99_ms:.0f} ms is over max_p99_ms {traffic.max_p99_ms:g} ms"
    if step_over and not enough:
        return (
            f"{window.requests} canary requests in the step, fewer than min_requests {traffic.min_requests}: "
            "too few to judge"
        )
    return None


@dataclass
class StepEngine:
    traffic: Traffic
    split: Split
    workloads: Workloads
    say: Callable[[str], None]
    poll_seconds: float = DEFAULT_POLL_SECONDS

    def run(self) -> list[Window]:
        """Every step and the promotion; the last window of each step. Rolls back and re-raises on failure."""
        windows: list[Window] = []
        try:
            self.workloads.start_canary()
            for index, percent in enumerate(self.traffic.steps, start=1):
                windows.append(self._step(index, percent))
            self.say("analysis passed at every step: promoting")
            self.workloads.promote()
            self.split.shift(0)
        except BaseException:
            self.roll_back()
            raise
        try:
            self.workloads.stop_canary()
        except Exception as error:  # noqa: BLE001 -- promoted: only an idle canary is left
            self.say(f"promoted, but the canary was not scaled to zero (run the abort command): {error}")
        return windows

    def _step(self, index: int, percent: int) -> Window:
        self.split.shift(percent)
        self.split.open_window()
        self.say(f"step {index}: {percent}% to the canary for {self.traffic.step_seconds:g} s")
        ends = time.monotonic() + self.traffic.step_seconds
        while True:
            # Past its time, a step goes on being judged until its end has been published too.
            step_over = time.monotonic() >= ends and self.split.settled()
            window = self.split.read()
            if (problem := breach(window, self.traffic, step_over=step_over)) is not None:
                msg = f"canary analysis failed at step {index} ({percent}%): {problem}"
                raise AnalysisFailed(msg, step=index, window=window)
            if step_over:
                self.say(f"step {index} passed: {window}")
                return window
            time.sleep(max(0.01, min(self.poll_seconds, ends - time.monotonic())))

    def roll_back(self) -> None:
        """Weights back to the stable version (tried again on failure), then the canary to zero, and only
        then: a canary group with weight and no pods would answer its share with errors. A signal arriving
        meanwhile does not cut it short."""
        with cancellable(signal.SIG_IGN):
            problem = self._weights_back()
            if problem is None:
                try:
                    self.workloads.stop_canary()
                except Exception as error:  # noqa: BLE001 -- reported, as a weights failure is
                    problem = f"canary: {error}"
        if problem:
            self.say(f"ROLLBACK INCOMPLETE (run the abort command): {problem}")
        else:
            self.say("rolled back: all traffic on the stable version, canary scaled to 0")

    def _weights_back(self) -> str | None:
        """None once the weights are back on the stable version; else what failed the last attempt."""
        failure = None
        for wait in (*WEIGHT_RETRY_SECONDS, 0.0):
            try:
                self.split.shift(0)
            except Exception as error:  # noqa: BLE001 -- tried again, then reported
                failure = f"weights: {error}; the canary keeps running to answer the share it still gets"
                time.sleep(wait)
            else:
                return None
        return failure


def _cancel(signum: int, _frame: object) -> None:
    msg = f"cancelled by {signal.Signals(signum).name} (a canary under way was rolled back)"
    raise Cancelled(msg)


@contextlib.contextmanager
def cancellable(handler: Callable[[int, object], None] | signal.Handlers = _cancel) -> Iterator[None]:
    """SIGTERM or SIGINT (a cancelled job) raises Cancelled where the run is, so its rollback runs; with
    ``signal.SIG_IGN``, what runs inside is not cut short."""
    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before)
