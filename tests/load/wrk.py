"""Drive a URL with wrk (Debian's package) and read its results as numbers, not scraped text.

A Lua ``done`` hook prints one JSON line with the counts and latency percentiles, so nothing depends on
the layout of wrk's human-readable report. There is no per-response hook: it would slow wrk down, and
wrk's own status-error count already says how many responses were 4xx/5xx.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WrkResult", "run_wrk"]

_MARKER = "WRK_RESULT "
_SCRIPT = """
local method, body, content_type = %(method)s, %(body)s, %(content_type)s
wrk.method = method
if body ~= nil then
  wrk.body = body
  wrk.headers["Content-Type"] = content_type
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"bytes":%%d,"connect_errors":%%d,"read_errors":%%d,' ..
    '"write_errors":%%d,"timeouts":%%d,"non2xx":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
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

    @property
    def requests_per_second(self) -> float:
        return self.requests / (self.duration_us / 1e6)

    @property
    def socket_errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def failed(self) -> int:
        return self.non2xx + self.socket_errors


def _lua_string(value: str | None) -> str:
    return "nil" if value is None else json.dumps(value)


def run_wrk(  # noqa: PLR0913 - each knob is one wrk option
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 1,
    method: str = "GET",
    body: bytes | None = None,
    content_type: str = "application/json",
    timeout_seconds: float = 5.0,
) -> WrkResult:
    """Run wrk for a bounded time and return its counts and latency percentiles."""
    wrk = shutil.which("wrk")
    if wrk is None:
        msg = "wrk not found on PATH: install Debian's wrk package (.ci/run does)"
        raise FileNotFoundError(msg)
    script = _SCRIPT % {
        "method": _lua_string(method),
        "body": _lua_string(body.decode() if body is not None else None),
        "content_type": _lua_string(content_type),
        "marker": _MARKER,
    }
    with tempfile.TemporaryDirectory() as scratch:
        script_path = Path(scratch) / "report.lua"
        script_path.write_text(script, encoding="utf-8")
        command = [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={timeout_seconds:g}s",
            "-s",
            str(script_path),
            url,
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith(_MARKER):
            fields = json.loads(line.removeprefix(_MARKER))
            fields.pop("bytes")
            return WrkResult(**fields)
    said = completed.stderr.strip() or completed.stdout[-500:]
    msg = f"wrk printed no result (exit {completed.returncode}): {said}"
    raise RuntimeError(msg)
