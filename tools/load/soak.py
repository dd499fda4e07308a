"""``make soak``: one replica under a steady, moderate mix of requests for a bounded time, memory watched.

The mix is what a real client population sends, including its mistakes: GET /predict, single-row and
batch POSTs, malformed JSON (400), a wrong content type (415), readiness and metrics scrapes. wrk paces
each connection (a pause between requests), so the rate stays moderate and steady instead of whatever the
machine can take. Every response is checked against the status its kind must get (the request id the
server echoes names the kind), and the process's resident memory is sampled every second.

RSS is compared after a warm-up of the same mix, because the first requests of each kind allocate what
the process keeps for good (code paths, msgspec types, metric label sets, allocator arenas); what grows
after that, at a steady rate, is what would grow without bound.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.service_card import load_service_card
from tools.common import write_json
from tools.load.service import rss_bytes, running_service, sample_row
from tools.load.wrk import Wrk, WrkResult

DEFAULT_SECONDS = 60
_MAX_SECONDS = 3600
WARM_UP_SECONDS = 10
CONNECTIONS = 5
PAUSE_MS = 10  # per connection: at most 5 x 1000 / 10 = 500 requests/s, about a quarter of one core
# Growth allowed after warm-up: 8 MiB, 14% of the ~57 MiB the process holds. A minute at ~400
# requests/s is ~24,000 requests, so a leak of about 350 bytes per request (a small dict or a log line
# kept) crosses it, while the allocator's normal settling (an arena or two; nothing at all here so far)
# stays far below. The pod's 256Mi limit would take many hours of such a leak to reach.
MAX_GROWTH_BYTES = 8 * 1024 * 1024

# The mix has each kind once per unit of its weight, each prepared once; every response is counted as
# "kind status" (the server echoes the id).
_LUA = r"""
local mix = %(mix)s
local prepared = {}
local position = 0
counts = {}

function init(args)
  for i, kind in ipairs(mix) do -- {name, method, path, content type or nil, body or nil}
    local headers = {["X-Request-ID"] = "soak-" .. kind[1]}
    if kind[4] then headers["Content-Type"] = kind[4] end
    prepared[i] = wrk.format(kind[2], kind[3], headers, kind[5])
  end
end

function request()
  position = position %% #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  local id = headers["x-request-id"] or "soak-unknown"
  local key = string.sub(id, 6) .. " " .. status
  counts[key] = (counts[key] or 0) + 1
end
"""


@dataclass(frozen=True)
class RequestKind:
    method: str
    path: str
    expected_status: int
    content_type: str | None = None
    body: str | None = None
    weight: int = 1


def request_mix() -> dict[str, RequestKind]:
    card = load_service_card()
    row = sample_row()
    json_type = "application/json"
    return {
        "baseline": RequestKind("GET", card.paths.predict, 200, weight=3),
        "row": RequestKind("POST", card.paths.predict, 200, json_type, json.dumps(row), weight=3),
        "batch": RequestKind(
            "POST", card.paths.predict, 200, json_type, json.dumps({"instances": [row] * 32})
        ),
        "malformed": RequestKind("POST", card.paths.predict, 400, json_type, '{"instances": ['),
        "wrong-type": RequestKind("POST", card.paths.predict, 415, "text/plain", json.dumps(row)),
        "unknown-feature": RequestKind(
            "POST", card.paths.predict, 422, json_type, json.dumps({**row, "x": 1})
        ),
        "ready": RequestKind("GET", card.paths.readiness, 200),
        "metrics": RequestKind("GET", card.paths.metrics, 200),
    }


def _script(kinds: dict[str, RequestKind]) -> str:
    def lua(*values: str | None) -> str:
        return "{" + ", ".join("nil" if v is None else json.dumps(v) for v in values) + "}"

    mix = [
        lua(name, k.method, k.path, k.content_type, k.body)
        for name, k in kinds.items()
        for _ in range(k.weight)
    ]
    return _LUA % {"mix": "{" + ", ".join(mix) + "}"}


def _run_wrk(url: str, script: str, seconds: float, samples: list[int], pid: int) -> WrkResult:
    """The mix for ``seconds``, each connection pausing between requests; RSS sampled once a second."""
    load = Wrk(
        url,
        seconds=seconds,
        connections=CONNECTIONS,
        timeout_seconds=10,
        pause_ms=PAUSE_MS,
        requests_lua=script,
    )
    with load:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(1.0)
            samples.append(rss_bytes(pid))
        return load.wait()


def soak(*, seconds: float = DEFAULT_SECONDS, workdir: Path) -> dict[str, Any]:
    kinds = request_mix()
    script = _script(kinds)
    samples: list[int] = []
    with running_service(workdir / "service.log") as service:
        cold = rss_bytes(service.pid)
        _run_wrk(service.url, script, WARM_UP_SECONDS, [], service.pid)
        start = rss_bytes(service.pid)
        result = _run_wrk(service.url, script, seconds, samples, service.pid)
        end = rss_bytes(service.pid)
        if service.process.poll() is not None:
            msg = f"the service exited during the soak ({service.process.returncode})"
            raise RuntimeError(msg)
    by_kind = result.counts  # "kind status" -> count
    expected = {f"{name} {kind.expected_status}" for name, kind in kinds.items()}
    return {
        "seconds": round(result.duration_us / 1e6, 2),
        "requests": result.requests,
        "requests_per_second": round(result.requests_per_second, 1),
        "socket_errors": result.socket_errors,
        "unexpected_statuses": {key: count for key, count in by_kind.items() if key not in expected},
        "by_kind_and_status": dict(sorted(by_kind.items())),
        "p50_ms": result.p50_us / 1000,
        "p99_ms": result.p99_us / 1000,
        "max_ms": result.max_us / 1000,
        "rss_cold_bytes": cold,  # right after start-up, before any request
        "rss_start_bytes": start,  # after the warm-up
        "rss_end_bytes": end,
        "rss_peak_bytes": max([start, end, *samples]),
        "rss_samples_mib": [round(sample / 2**20, 2) for sample in samples],  # one a second
        "max_growth_bytes": MAX_GROWTH_BYTES,
        "growth_bytes": end - start,
        "growth_fraction": round((end - start) / start, 4),
        "memory_ok": end - start < MAX_GROWTH_BYTES,
    }


def summary(report: dict[str, Any]) -> str:
    mib = 2**20
    return (
        f"soak: {report['requests']} requests in {report['seconds']:.0f} s "
        f"({report['requests_per_second']:.0f}/s), {report['socket_errors']} socket errors, "
        f"{sum(report['unexpected_statuses'].values())} wrong statuses, p99 {report['p99_ms']:.1f} ms, "
        f"RSS {report['rss_start_bytes'] / mib:.1f} -> {report['rss_end_bytes'] / mib:.1f} MiB "
        f"({report['growth_bytes'] / mib:+.2f} MiB, {report['growth_fraction']:+.1%}; "
        f"bound {MAX_GROWTH_BYTES / mib:.0f} MiB), cold {report['rss_cold_bytes'] / mib:.1f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="measured run, after warm-up")
    parser.add_argument("--output", type=Path, required=True, help="JSON report to write")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= _MAX_SECONDS:  # wrk's own bound is 1; the upper one keeps it a test
        parser.error(f"--seconds must be between 1 and {_MAX_SECONDS}")
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        report = soak(seconds=args.seconds, workdir=Path(scratch))
    write_json(args.output, report)
    print(summary(report))  # noqa: T201 - the command's output
    print(f"report: {args.output}")  # noqa: T201
    healthy = report["memory_ok"] and report["socket_errors"] == 0 and not report["unexpected_statuses"]
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
