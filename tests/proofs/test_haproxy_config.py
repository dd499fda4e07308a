"""The proxy standing in for the ALB is configured from the service card and hides no failure."""

from __future__ import annotations

import subprocess

import pytest

from api.service_card import load_service_card
from tools.load.haproxy import HAProxy, HealthCheck
from tools.load.rehearsal import DEFAULT_MANIFESTS, Timings
from tools.load.rollout_spec import load_rollout_spec


@pytest.fixture
def proxy(tmp_path):
    card = load_service_card()
    timings = Timings.from_sources(load_rollout_spec(DEFAULT_MANIFESTS), card, 1.0)
    return card, HAProxy(
        tmp_path, health_check=timings.health_check, idle_timeout_seconds=timings.idle_timeout_seconds
    )


def _lines(config: str) -> list[str]:
    return [line.strip() for line in config.splitlines()]


def test_failed_requests_are_neither_retried_nor_redispatched(proxy):
    _, haproxy = proxy
    lines = _lines(haproxy.render_config())
    assert "retries 0" in lines
    assert "no option redispatch" in lines
    assert not any(line.startswith(("option redispatch", "retry-on")) for line in lines)


def test_health_checks_and_timeouts_come_from_the_service_card(proxy):
    card, haproxy = proxy
    lines = _lines(haproxy.render_config())
    check = card.load_balancer.health_check
    assert f"option httpchk GET {card.paths.readiness}" in lines
    assert "http-check expect status 200" in lines
    assert f"timeout check {check.timeout_seconds * 1000}ms" in lines
    idle = card.load_balancer.idle_timeout_seconds * 1000
    for timeout in ("client", "server", "http-keep-alive"):
        assert f"timeout {timeout} {idle}ms" in lines
    assert haproxy.health_check == HealthCheck(
        path=card.paths.readiness,
        interval_seconds=check.interval_seconds,
        timeout_seconds=check.timeout_seconds,
        healthy_threshold=check.healthy_threshold,
        unhealthy_threshold=check.unhealthy_threshold,
    )


def test_the_proxy_listens_on_loopback_only(proxy):
    _, haproxy = proxy
    binds = [line for line in _lines(haproxy.render_config()) if line.startswith("bind ")]
    assert binds == [f"bind 127.0.0.1:{haproxy.port}"]


@pytest.mark.system
def test_haproxy_accepts_the_generated_configuration(proxy, haproxy, tmp_path):
    _, generated = proxy
    path = tmp_path / "check.cfg"
    path.write_text(generated.render_config(), encoding="utf-8")
    checked = subprocess.run([haproxy, "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
