"""wrk (Debian's package) as one wrapper: a Lua ``done`` hook prints one JSON line with the counts and
latency percentiles (nothing depends on wrk's human-readable report). The load is offered closed-loop (the
default), with ``pause_ms`` between a connection's requests, or on a fixed arrival schedule of ``rate``
requests per second: a ``delay()`` hook holds each request until its slot (LuaJIT's FFI gives a monotonic
clock), and slots that passed while the server stalled are sent as soon as a connection is free.
Caveat (coordinated omission): wrk times a request from when it is sent, not from its slot.

``run_wrk`` runs for its whole duration; ``with Wrk(...) as load: ...; load.stop()`` keeps load on while
something else happens. A custom ``requests_lua`` may count responses into a global ``counts`` table; the
counts of every thread come back in ``WrkResult.counts``.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Self

_MARKER = "WRK_RESULT "
_FIXED_REQUEST = """
wrk.method = %(method)s
wrk.body = %(body)s
wrk.headers["Content-Type"] = %(content_type)s
"""
_PAUSE = "\nfunction delay() return %(pause_ms)d end\n"
_SCHEDULE = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } predictor_timespec;
int clock_gettime(int clk_id, predictor_timespec *tp);
]]
local now_spec = ffi.new("predictor_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, now_spec) -- CLOCK_MONOTONIC
  return tonumber(now_spec.tv_sec) * 1000 + tonumber(now_spec.tv_nsec) / 1e6
end

local interval_ms, next_slot = %(interval_ms).6f, nil
function delay() -- this thread's share of the schedule: one slot every interval_ms
  local now = now_ms()
  local slot = next_slot or now
  next_slot = slot + interval_ms
  return math.max(0, slot - now)
end
"""
_REPORT = """
local report_threads = {}
function setup(thread)
  table.insert(report_threads, thread)
end

function done(summary, latency, requests)
  local total, parts = {}, {}
  for _, thread in ipairs(report_threads) do
    for key, n in pairs(thread:get("counts") or {}) do total[key] = (total[key] or 0) + n end
  end
  for key, n in pairs(total) do table.insert(parts, string.format('"%%s":%%d', key, n)) end
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"connect_errors":%%d,"read_errors":%%d,' ..
    '"write_errors":%%d,"timeouts":%%d,"non2xx":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,' ..
    '"max_us":%%d,"mean_us":%%d,"counts":{%%s}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(parts, ",")))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_us: int
    connect_errors: int
    read_errors: int
    write_errors: int
    timeouts: int
    non2xx: int  # wrk's status errors: responses with a status of 400 or more
    p50_us: int
    p90_us: int
    p99_us: int
    max_us: int
    mean_us: int
    counts: dict[str, int]  # what a custom script counted, all threads (empty without one)

    @property
    def requests_per_second(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def failed(self) -> int:
        return self.non2xx + self.socket_errors

    @property
    def in_flight(self) -> float:
        """Requests in the server on average (Little's law: rate x mean latency)."""
        return self.requests_per_second * self.mean_us / 1e6


def _lua(value: str | None) -> str:
    return "nil" if value is None else json.dumps(value)


class Wrk:
    """One wrk run, started by ``with``; ``wait()`` lets it run its full time, ``stop()`` ends it now."""

    _scratch: tempfile.TemporaryDirectory[str]
    _process: subprocess.Popen[bytes]

    def __init__(  # noqa: PLR0913 - each knob is one wrk option
        self,
        url: str,
        *,
        seconds: float,
        connections: int,
        threads: int = 1,
        method: str = "GET",
        body: bytes | str | None = None,
        timeout_seconds: float = 5.0,
        pause_ms: int = 0,
        rate: float | None = None,
        requests_lua: str | None = None,
        headers: tuple[str, ...] = (),  # "Name: value", sent with every request
    ) -> None:
        if seconds < 1 or connections < 1 or threads < 1 or (rate is not None and rate <= 0):
            msg = f"wrk needs seconds, connections and threads >= 1 and a rate > 0 (got {seconds}, "
            msg += f"{connections}, {threads}, {rate})"
            raise ValueError(msg)
        text = body.decode() if isinstance(body, bytes) else body
        script = requests_lua or _FIXED_REQUEST % {
            "method": _lua(method),
            "body": _lua(text),
            "content_type": _lua(text and "application/json"),
        }
        if rate is not None:
            script += _SCHEDULE % {"interval_ms": 1000 * threads / rate}
        elif pause_ms:
            script += _PAUSE % {"pause_ms": pause_ms}
        self.script = script + _REPORT % {"marker": _MARKER}
        self.seconds = seconds
        self.argv = [
            f"-t{threads}",
            f"-c{connections}",
            f"-d{round(seconds)}s",
            f"--timeout={timeout_seconds:g}s",
            *(argument for header in headers for argument in ("-H", header)),
            url,
        ]

    def __enter__(self) -> Self:
        wrk = shutil.which("wrk")
        if wrk is None:
            msg = "wrk not found on PATH: install Debian's wrk package (.ci/run does)"
            raise FileNotFoundError(msg)
        self._scratch = tempfile.TemporaryDirectory(prefix="wrk-")
        script = Path(self._scratch.name, "load.lua")
        script.write_text(self.script, encoding="utf-8")
        with Path(self._scratch.name, "output").open("wb") as output:
            self._process = subprocess.Popen(  # noqa: S603 -- wrk found on PATH, our own arguments
                [wrk, "-s", str(script), *self.argv], stdout=output, stderr=subprocess.STDOUT
            )
        return self

    def __exit__(self, *_: object) -> None:
        self._process.kill()  # Popen skips a process it knows has exited
        self._process.wait()
        self._scratch.cleanup()

    def wait(self) -> WrkResult:
        """Let wrk run its whole duration and return its counts."""
        try:
            self._process.wait(timeout=self.seconds + 60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        return self._result()

    def stop(self) -> WrkResult:
        """Stop the load now (SIGINT: wrk still runs ``done``) and return its counts; raises if wrk had
        ended on its own (``seconds`` too short for what was measured)."""
        if self._process.poll() is not None:
            msg = (
                f"wrk ended on its own (exit {self._process.returncode}) before the measured events were over"
            )
            raise RuntimeError(msg)
        self._process.send_signal(signal.SIGINT)
        self._process.wait(timeout=30)
        return self._result()

    def _result(self) -> WrkResult:
        output = Path(self._scratch.name, "output").read_text(encoding="utf-8")
        for line in output.splitlines():
            if line.startswith(_MARKER):
                return WrkResult(**json.loads(line.removeprefix(_MARKER)))
        msg = f"wrk printed no result (exit {self._process.returncode}): {output[-500:]}"
        raise RuntimeError(msg)


def run_wrk(url: str, **options: object) -> WrkResult:
    """Run wrk for its whole duration (the options of ``Wrk``) and return its counts."""
    with Wrk(url, **options) as load:  # type: ignore[arg-type]
        return load.wait()
