"""wrk at a target request rate: arrivals on a fixed schedule, like clients that do not wait for each other.

Plain wrk is a closed loop: each connection sends its next request as soon as the last one answers, so
any server saturates and the measure becomes how it queues, not what rate it serves within a latency
objective. Here a Lua ``delay()`` hook (wrk's own API) holds each request until its slot on a schedule
of ``rate`` requests per second, using LuaJIT's FFI for a monotonic millisecond clock. When the server
stalls, slots that passed are sent as soon as a connection is free, so the offered rate is kept (up to
``connections`` in flight), as an open arrival stream would keep it.

Caveat (coordinated omission): wrk times a request from when it is sent, not from its slot, so a request
held back while every connection was busy does not count its wait. The limit is therefore an upper
bound on what meets the objective; the HPA's headroom (manifests_py/capacity.py) covers the difference.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.load.wrk import WrkResult

__all__ = ["PacedResult", "run_wrk_paced"]

_MARKER = "WRK_PACED_RESULT "
_SCRIPT = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } predictor_timespec;
int clock_gettime(int clk_id, predictor_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_spec = ffi.new("predictor_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_spec)
  return tonumber(now_spec.tv_sec) * 1000 + tonumber(now_spec.tv_nsec) / 1e6
end

wrk.method = %(method)s
local body = %(body)s
if body ~= nil then
  wrk.body = body
  wrk.headers["Content-Type"] = %(content_type)s
end

-- This thread's share of the schedule: one slot every interval_ms.
local interval_ms = %(interval_ms).6f
local next_slot = nil
function delay()
  local now = now_ms()
  if next_slot == nil then next_slot = now end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  if slot <= now then return 0 end
  return slot - now
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"connect_errors":%%d,"read_errors":%%d,' ..
    '"write_errors":%%d,"timeouts":%%d,"non2xx":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,' ..
    '"max_us":%%d,"mean_us":%%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class PacedResult:
    target_rate: float
    result: WrkResult
    mean_us: int

    @property
    def achieved_rate(self) -> float:
        return self.result.requests_per_second

    @property
    def in_flight(self) -> float:
        """Requests in the server on average (Little's law: rate x mean latency)."""
        return self.achieved_rate * self.mean_us / 1e6


def _lua(value: str | None) -> str:
    return "nil" if value is None else json.dumps(value)


def run_wrk_paced(  # noqa: PLR0913 - each knob is one wrk option
    url: str,
    *,
    rate: float,
    seconds: int,
    connections: int,
    method: str = "GET",
    body: bytes | None = None,
    content_type: str = "application/json",
    timeout_seconds: float = 5.0,
) -> PacedResult:
    """Offer ``rate`` requests per second for ``seconds`` (one wrk thread); bounded by wrk's own -d."""
    if rate <= 0 or seconds < 1 or connections < 1:
        msg = f"need rate > 0, seconds >= 1 and connections >= 1 (got {rate}, {seconds}, {connections})"
        raise ValueError(msg)
    wrk = shutil.which("wrk")
    if wrk is None:
        msg = "wrk not found on PATH: install Debian's wrk package (.ci/run does)"
        raise FileNotFoundError(msg)
    script = _SCRIPT % {
        "method": _lua(method),
        "body": _lua(body.decode() if body is not None else None),
        "content_type": _lua(content_type),
        "interval_ms": 1000 / rate,
        "marker": _MARKER,
    }
    with tempfile.TemporaryDirectory() as scratch:
        script_path = Path(scratch) / "paced.lua"
        script_path.write_text(script, encoding="utf-8")
        command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_seconds:g}s"]
        completed = subprocess.run(
            [*command, "-s", str(script_path), url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    for line in completed.stdout.splitlines():
        if line.startswith(_MARKER):
            fields = json.loads(line.removeprefix(_MARKER))
            mean_us = fields.pop("mean_us")
            return PacedResult(target_rate=rate, result=WrkResult(**fields), mean_us=mean_us)
    said = completed.stderr.strip() or completed.stdout[-500:]
    msg = f"wrk printed no result (exit {completed.returncode}): {said}"
    raise RuntimeError(msg)
