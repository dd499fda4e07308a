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
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from api.model import load_model
from api.service_card import load_service_card
from api.settings import BUNDLED_MODEL_PATH
from tests.load.process_stats import rss_bytes
from tests.support.service import start_service

__all__ = ["MAX_GROWTH_BYTES", "SoakReport", "soak", "summary"]

DEFAULT_SECONDS = 60
WARM_UP_SECONDS = 10
CONNECTIONS = 5
PAUSE_MS = 10  # per connection: at most 5 x 1000 / 10 = 500 requests/s, about a quarter of one core
# Growth allowed after warm-up: 8 MiB, 14% of the ~57 MiB the process holds. A minute at ~400
# requests/s is ~24,000 requests, so a leak of about 350 bytes per request (a small dict or a log line
# kept) crosses it, while the allocator's normal settling (an arena or two; nothing at all here so far)
# stays far below. The pod's 256Mi limit would take many hours of such a leak to reach.
MAX_GROWTH_BYTES = 8 * 1024 * 1024
_MARKER = "SOAK_RESULT "

# kind: (method, path key in the card or literal, content type, body, expected status)
_LUA = r"""
local kinds = %(kinds)s
local sequence = %(sequence)s
local prepared = {}
local position = 0
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

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

function delay()
  return %(pause_ms)d
end

function response(status, headers, body)
  local id = headers["x-request-id"] or "soak-unknown"
  local key = string.sub(id, 6) .. " " .. status
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("counts")) do total[key] = (total[key] or 0) + n end
  end
  local parts = {}
  for key, n in pairs(total) do table.insert(parts, string.format('"%%s":%%d', key, n)) end
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"connect_errors":%%d,"read_errors":%%d,' ..
    '"write_errors":%%d,"timeouts":%%d,"p50_us":%%d,"p99_us":%%d,"max_us":%%d,"by_kind_and_status":{%%s}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(parts, ",")))
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
    model = load_model(BUNDLED_MODEL_PATH)
    row = dict(zip(model.feature_names, model.baseline, strict=True))
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
        "pause_ms": PAUSE_MS,
        "marker": _MARKER,
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


def _run_wrk(url: str, script: str, seconds: float, samples: list[int], pid: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        msg = "wrk not found on PATH: install Debian's wrk package (.ci/run does)"
        raise FileNotFoundError(msg)
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        script_path = Path(scratch) / "soak.lua"
        script_path.write_text(script, encoding="utf-8")
        command = [
            wrk,
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{round(seconds)}s",
            "--timeout=10s",
            "-s",
            str(script_path),
            url,
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(1.0):
                samples.append(rss_bytes(pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            output, _ = process.communicate(timeout=seconds + 60)
        finally:
            stop.set()
            sampler.join()
            if process.poll() is None:
                process.kill()
                process.wait()
    for line in output.splitlines():
        if line.startswith(_MARKER):
            result: dict[str, Any] = json.loads(line.removeprefix(_MARKER))
            return result
    msg = f"wrk printed no result (exit {process.returncode}): {output[-500:]}"
    raise RuntimeError(msg)


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
    by_kind = result["by_kind_and_status"]
    unexpected = {
        key: count
        for key, count in by_kind.items()
        if key.split(" ")[0] not in kinds
        or int(key.split(" ")[1]) != kinds[key.split(" ")[0]].expected_status
    }
    duration = result["duration_us"] / 1e6
    return SoakReport(
        seconds=round(duration, 2),
        requests=result["requests"],
        requests_per_second=round(result["requests"] / duration, 1),
        socket_errors=result["connect_errors"]
        + result["read_errors"]
        + result["write_errors"]
        + result["timeouts"],
        unexpected_statuses=unexpected,
        by_kind_and_status=dict(sorted(by_kind.items())),
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        max_ms=result["max_us"] / 1000,
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
    if not 1 <= args.seconds <= 3600:
        parser.error("--seconds must be between 1 and 3600")
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        report = soak(seconds=args.seconds, workdir=Path(scratch))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    partial = args.output.with_suffix(".partial")
    partial.write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    partial.replace(args.output)
    print(summary(report))  # noqa: T201 - the command's output
    print(f"report: {args.output}")  # noqa: T201
    healthy = report.memory_ok and report.socket_errors == 0 and not report.unexpected_statuses
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
