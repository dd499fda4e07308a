"""Process lifecycle shared by the server and the app: how much work is in flight, and whether we drain."""

from __future__ import annotations

__all__ = ["Lifecycle"]


class Lifecycle:
    """Mutable state read on every request; plain attributes because the event loop is single-threaded."""

    __slots__ = ("draining", "in_flight")

    def __init__(self) -> None:
        self.draining = False
        self.in_flight = 0

    def begin_drain(self) -> None:
        """From now on readiness fails and responses ask clients to close their connections."""
        self.draining = True
