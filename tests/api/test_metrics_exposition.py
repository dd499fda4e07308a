"""The request metrics keep the shape of the client library's Counter and Summary: the same families,
types, samples and labels, and no `_created` series."""

from __future__ import annotations

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from api._metrics import CONTENT_TYPE, Metrics
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


def test_the_content_type_is_the_client_librarys_classic_text_format():
    assert CONTENT_TYPE == CONTENT_TYPE_PLAIN_0_0_4


def test_observations_before_the_first_scrape_and_after_it_are_both_exposed(model):
    # The registry is built at the first scrape: what was counted before it must not be lost.
    metrics = Metrics(model, Lifecycle())
    metrics.observe("/predict", "GET", 200, 0.1)
    first = metrics.render().decode()
    metrics.observe("/predict", "GET", 200, 0.1)
    second = metrics.render().decode().splitlines()
    assert 'predictor_http_requests_total{method="GET",route="/predict",status="200"} 1.0' in first
    assert 'predictor_http_requests_total{method="GET",route="/predict",status="200"} 2.0' in second
    assert 'predictor_model_info{name="' in first
