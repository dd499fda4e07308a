"""Prometheus metrics for one app instance, in their own registry (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Info, Summary, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from api.lifecycle import Lifecycle
from api.model import LogisticModel

__all__ = ["CONTENT_TYPE", "Metrics"]

# generate_latest writes the classic 0.0.4 text format, which every scraper (Prometheus 2 and 3, the
# CloudWatch agent) reads; the library's "latest" content type announces 1.0.0 instead.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    __slots__ = ("_children", "_latency", "_requests", "registry")

    def __init__(self, model: LogisticModel, lifecycle: Lifecycle) -> None:
        # `*_created` series double the exposition for a timestamp that process_start already implies.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=False)
        self._requests = Counter(
            "predictor_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        # A summary, not a histogram: the CloudWatch agent (the scraper infra/ deploys) drops histograms but
        # publishes a summary's _sum and _count, so the average latency by route reaches CloudWatch. The
        # percentiles are the load balancer's TargetResponseTime.
        self._latency = Summary(
            "predictor_http_request_duration_seconds",
            "Time from receiving a request to sending the last byte of its response.",
            ["route", "method"],
            registry=self.registry,
        )
        Gauge(
            "predictor_http_requests_in_flight",
            "Requests being handled now.",
            registry=self.registry,
        ).set_function(lambda: lifecycle.in_flight)
        Gauge(
            "predictor_ready",
            "1 while the service accepts traffic, 0 while it drains.",
            registry=self.registry,
        ).set_function(lambda: 0 if lifecycle.draining else 1)
        Info("predictor_model", "The model being served.", registry=self.registry).info(
            {"name": model.name, "version": model.version}
        )
        # Label lookups take a lock and build tuples; caching the children keeps the hot path to two calls.
        self._children: dict[tuple[str, str, int], tuple[Counter, Summary]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        # Methods are client-chosen: folding unknown ones keeps the label set (and this cache) bounded.
        method = method if method in _KNOWN_METHODS else "OTHER"
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self._requests.labels(route=route, method=method, status=str(status)),
                self._latency.labels(route=route, method=method),
            )
            self._children[key] = children
        counter, latency = children
        counter.inc()
        latency.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
