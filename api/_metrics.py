"""Prometheus metrics for one app instance, in their own registry (no process-global state).

Requests are counted in plain numbers; the client library, which only the exposition needs, is imported
at the first scrape instead of at start-up (its exposition module alone is a tenth of a start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.lifecycle import Lifecycle
from api.model import LogisticModel

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client import CollectorRegistry, Metric

__all__ = ["CONTENT_TYPE", "Metrics"]

# The classic 0.0.4 text format (the library's CONTENT_TYPE_PLAIN_0_0_4, which a test holds this to), as
# generate_latest writes it and every scraper (Prometheus 2 and 3, the CloudWatch agent) reads; the
# library's "latest" content type announces 1.0.0 instead.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _RequestStats:
    """The request counter and latency summary as a collector of plain numbers: observing a request is two
    dictionary updates, where the client library's Counter and Summary took three locked increments."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}
        self.latency: dict[tuple[str, str], list[float]] = {}  # [count, sum of seconds]

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, SummaryMetricFamily  # noqa: PLC0415 - see above

        requests = CounterMetricFamily(
            "predictor_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            labels=["route", "method", "status"],
        )
        for labels, count in self.counts.items():
            requests.add_metric(labels, count)
        # A summary, not a histogram: the CloudWatch agent (the scraper infra/ deploys) drops histograms but
        # publishes a summary's _sum and _count, so the average latency by route reaches CloudWatch. The
        # percentiles are the load balancer's TargetResponseTime.
        latency = SummaryMetricFamily(
            "predictor_http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its response.",
            labels=["route", "method"],
        )
        for route_method, (observed, seconds) in self.latency.items():
            latency.add_metric(route_method, count_value=int(observed), sum_value=seconds)
        return iter((requests, latency))


class Metrics:
    __slots__ = ("_lifecycle", "_model", "_registry", "_stats")

    def __init__(self, model: LogisticModel, lifecycle: Lifecycle) -> None:
        self._model = model
        self._lifecycle = lifecycle
        self._stats = _RequestStats()
        self._registry: CollectorRegistry | None = None

    def _build_registry(self) -> CollectorRegistry:
        from prometheus_client import CollectorRegistry, Gauge, Info, disable_created_metrics  # noqa: PLC0415

        # `*_created` series double the exposition for a timestamp that process_start already implies.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self._stats)
        lifecycle = self._lifecycle
        Gauge(
            "predictor_http_requests_in_flight",
            "Requests being handled now.",
            registry=registry,
        ).set_function(lambda: lifecycle.in_flight)
        Gauge(
            "predictor_ready",
            "1 while the service accepts traffic, 0 while it drains.",
            registry=registry,
        ).set_function(lambda: 0 if lifecycle.draining else 1)
        Info("predictor_model", "The model being served.", registry=registry).info(
            {"name": self._model.name, "version": self._model.version}
        )
        return registry

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        # Methods are client-chosen: folding unknown ones keeps the label set bounded.
        method = method if method in _KNOWN_METHODS else "OTHER"
        counts, latency = self._stats.counts, self._stats.latency
        key = (route, method, str(status))
        counts[key] = counts.get(key, 0) + 1
        total = latency.get(key[:2])
        if total is None:
            latency[key[:2]] = [1, seconds]
        else:
            total[0] += 1
            total[1] += seconds

    def render(self) -> bytes:
        from prometheus_client.exposition import generate_latest  # noqa: PLC0415 - see the module docstring

        if self._registry is None:
            self._registry = self._build_registry()
        return generate_latest(self._registry)
