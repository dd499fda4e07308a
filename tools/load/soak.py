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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from api.service_card import load_service_card
from tools.common import write_json
from tools.load.process_stats import rss_bytes
from tools.load.service import sample_row, start_service
from tools.load.wrk import Wrk, WrkResult

__all__ = ["MAX_GROWTH_BYTES", "SoakReport", "soak", "summary"]

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

# Each kind of request, prepared once; every response counted as "kind status" (the server echoes the id).
_LUA = r"""
local kinds = %(kinds)s
local sequence = %(sequence)s
local prepared = {}
local position = 0
counts = {}

function init(args)
  for name, kind in pairs(kinds) do
    local headers = {["X-Request-ID"] = "soak-" .. name}
    if kind.content_type then headers["Content-Type"] = kind.content_type end
    prepared[name] = wrk.format(kind.method, kind.path, headers, kind.body)
  end
end

function request()
  position = position %% #sequence + 1
  return prepared[sequence[position]]
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


def _lua_table(kinds: dict[str, RequestKind]) -> str:
    entries = []
    for name, kind in kinds.items():
        fields = [f"method = {json.dumps(kind.method)}", f"path = {json.dumps(kind.path)}"]
        if kind.content_type:
            fields.append(f"content_type = {json.dumps(kind.content_type)}")
        if kind.body is not None:
            fields.append(f"body = {json.dumps(kind.body)}")
        entries.append(f'["{name}"] = {{{", ".join(fields)}}}')
    return "{" + ", ".join(entries) + "}"


def _script(kinds: dict[str, RequestKind]) -> str:
    sequence = [name for name, kind in kinds.items() for _ in range(kind.weight)]
    return _LUA % {
        "kinds": _lua_table(kinds),
        "sequence": "{" + ", ".join(json.dumps(name) for name in sequence) + "}",
    }


@dataclass(frozen=True)
class SoakReport:
    seconds: float
    requests: int
    requests_per_second: float
    socket_errors: int
    unexpected_statuses: dict[str, int]  # "kind status" -> count, for statuses the kind must not get
    by_kind_and_status: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    rss_cold_bytes: int  # right after start-up, before any request
    rss_start_bytes: int  # after the warm-up
    rss_end_bytes: int
    rss_peak_bytes: int
    rss_samples_mib: list[float]  # one a second through the measured run
    max_growth_bytes: int

    @property
    def growth_bytes(self) -> int:
        return self.rss_end_bytes - self.rss_start_bytes

    @property
    def growth_fraction(self) -> float:
        return self.growth_bytes / self.rss_start_bytes

    @property
    def memory_ok(self) -> bool:
        return self.growth_bytes < self.max_growth_bytes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "growth_bytes": self.growth_bytes,
            "growth_fraction": round(self.growth_fraction, 4),
            "memory_ok": self.memory_ok,
        }


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


def soak(*, seconds: float = DEFAULT_SECONDS, workdir: Path) -> SoakReport:
    kinds = request_mix()
    script = _script(kinds)
    service = start_service(workdir / "service.log")
    try:
        pid = service.process.pid
        cold = rss_bytes(pid)
        _run_wrk(service.url, script, WARM_UP_SECONDS, [], pid)
        start = rss_bytes(pid)
        samples: list[int] = []
        result = _run_wrk(service.url, script, seconds, samples, pid)
        end = rss_bytes(pid)
        if service.process.poll() is not None:
            msg = f"the service exited during the soak ({service.process.returncode})"
            raise RuntimeError(msg)
    finally:
        service.terminate()
    by_kind = result.counts
    unexpected = {
        key: count
        for key, count in by_kind.items()
        if key.split(" ")[0] not in kinds
        or int(key.split(" ")[1]) != kinds[key.split(" ")[0]].expected_status
    }
    return SoakReport(
        seconds=round(result.duration_us / 1e6, 2),
        requests=result.requests,
        requests_per_second=round(result.requests_per_second, 1),
        socket_errors=result.socket_errors,
        unexpected_statuses=unexpected,
        by_kind_and_status=dict(sorted(by_kind.items())),
        p50_ms=result.p50_us / 1000,
        p99_ms=result.p99_us / 1000,
        max_ms=result.max_us / 1000,
        rss_cold_bytes=cold,
        rss_start_bytes=start,
        rss_end_bytes=end,
        rss_peak_bytes=max([start, end, *samples]),
        rss_samples_mib=[round(sample / 2**20, 2) for sample in samples],
        max_growth_bytes=MAX_GROWTH_BYTES,
    )


def summary(report: SoakReport) -> str:
    mib = 2**20
    unexpected = sum(report.unexpected_statuses.values())
    rss = (
        f"RSS {report.rss_start_bytes / mib:.1f} -> {report.rss_end_bytes / mib:.1f} MiB "
        f"({report.growth_bytes / mib:+.2f} MiB, {report.growth_fraction:+.1%}; "
        f"bound {MAX_GROWTH_BYTES / mib:.0f} MiB), cold {report.rss_cold_bytes / mib:.1f} MiB"
    )
    return (
        f"soak: {report.requests} requests in {report.seconds:.0f} s ({report.requests_per_second:.0f}/s), "
        f"{report.socket_errors} socket errors, {unexpected} wrong statuses, p99 {report.p99_ms:.1f} ms, "
        + rss
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="measured run, after warm-up")
    parser.add_argument("--output", type=Path, required=True, help="JSON report to write")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= _MAX_SECONDS:
        parser.error(f"--seconds must be between 1 and {_MAX_SECONDS}")
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        report = soak(seconds=args.seconds, workdir=Path(scratch))
    write_json(args.output, report.as_dict())
    print(summary(report))  # noqa: T201 - the command's output
    print(f"report: {args.output}")  # noqa: T201
    healthy = report.memory_ok and report.socket_errors == 0 and not report.unexpected_statuses
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
