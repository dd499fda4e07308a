"""The request metrics keep the shape of the client library's Counter and Summary: the same families,
types, samples and labels, and no `_created` series."""

from __future__ import annotations

from api._metrics import Metrics
from api.lifecycle import Lifecycle


def test_request_metrics_expose_a_counter_and_a_summary(model):
    metrics = Metrics(model, Lifecycle())
    metrics.observe("/predict", "POST", 422, 0.25)
    metrics.observe("/predict", "POST", 200, 0.5)
    metrics.observe("/predict", "BREW", 405, 1.0)
    lines = metrics.render().decode().splitlines()
    assert "# TYPE predictor_http_requests_total counter" in lines
    assert "# TYPE predictor_http_request_duration_seconds summary" in lines
    assert 'predictor_http_requests_total{method="POST",route="/predict",status="422"} 1.0' in lines
    assert 'predictor_http_requests_total{method="OTHER",route="/predict",status="405"} 1.0' in lines
    assert 'predictor_http_request_duration_seconds_count{method="POST",route="/predict"} 2.0' in lines
    assert 'predictor_http_request_duration_seconds_sum{method="POST",route="/predict"} 0.75' in lines
    assert not [line for line in lines if "_created" in line]
