"""How a pod leaves the load balancer without failing a request: the one place the timings are computed.

When Kubernetes terminates a pod, two things start at once: the kubelet runs the ``preStop`` hook, and
the AWS Load Balancer Controller sees the endpoint go away and deregisters the target. The ALB keeps
routing to the target until deregistration has propagated, and lets in-flight requests run for the
target group's deregistration delay. So the pod must keep serving normally for longer than that
(``preStop`` sleep > deregistration delay), and only then receive SIGTERM, after which the server
turns ``/ready`` to 503 and drains in-flight work within its drain budget. The grace period has to
cover all of it, or the kubelet's SIGKILL cuts the drain short.

    preStop sleep = deregistration delay + propagation margin
    grace period  = preStop sleep + drain budget + exit margin
"""

from __future__ import annotations

from dataclasses import dataclass

from manifests_py.service_card import ServiceCard

__all__ = ["EXIT_MARGIN_SECONDS", "PROPAGATION_MARGIN_SECONDS", "ShutdownTimings"]

# The controller reconciles the endpoint change and the ALB applies the deregistration within a few
# seconds; sleeping this much past the deregistration delay covers that lag.
PROPAGATION_MARGIN_SECONDS = 5
# Time for the process to flush logs and exit after the drain, before the kubelet would SIGKILL it.
EXIT_MARGIN_SECONDS = 5


@dataclass(frozen=True, kw_only=True)
class ShutdownTimings:
    """The two inputs; the sleep and the grace period follow from them, so the relations always hold."""

    deregistration_delay_seconds: int
    drain_seconds: int

    @property
    def pre_stop_sleep_seconds(self) -> int:
        return self.deregistration_delay_seconds + PROPAGATION_MARGIN_SECONDS

    @property
    def termination_grace_period_seconds(self) -> int:
        return self.pre_stop_sleep_seconds + self.drain_seconds + EXIT_MARGIN_SECONDS

    @classmethod
    def for_card(cls, card: ServiceCard) -> ShutdownTimings:
        return cls(
            deregistration_delay_seconds=card.load_balancer.deregistration_delay_seconds,
            drain_seconds=card.server.drain_seconds,
        )
