"""wrk running in the background while something else happens (a rollout), stopped when that is over.

``run_wrk`` blocks for a fixed time; a rehearsal needs the load to cover exactly the events it measures.
wrk stops early on SIGINT and still runs its ``done`` hook, so the numbers come from the same Lua hook and
the same result type as ``run_wrk``'s.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Self

from tests.load.wrk import _MARKER, _SCRIPT, WrkResult, _lua_string

__all__ = ["BackgroundWrk"]


class BackgroundWrk:
    """``with BackgroundWrk(url, ...) as load: ...; result = load.stop()``; bounded by ``max_seconds``.

    With ``pause_ms`` each connection pauses between requests, so the rate stays near
    ``connections * 1000 / (pause_ms + latency)`` instead of whatever the machine can take.
    """

    def __init__(  # noqa: PLR0913 - each knob is one wrk option
        self,
        url: str,
        *,
        connections: int,
        max_seconds: float,
        threads: int = 1,
        method: str = "GET",
        body: bytes | None = None,
        content_type: str = "application/json",
        timeout_seconds: float = 10.0,
        pause_ms: int = 0,
    ) -> None:
        self.url = url
        self.connections = connections
        self.max_seconds = max_seconds
        self.threads = threads
        self.timeout_seconds = timeout_seconds
        self._script = _SCRIPT % {
            "method": _lua_string(method),
            "body": _lua_string(body.decode() if body is not None else None),
            "content_type": _lua_string(content_type),
            "marker": _MARKER,
        }
        if pause_ms:
            # Each connection waits this long before its next request: a steady rate, not the maximum.
            self._script += f"\nfunction delay()\n  return {pause_ms}\nend\n"
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stdout: IO[str] | None = None

    def __enter__(self) -> Self:
        wrk = shutil.which("wrk")
        if wrk is None:
            msg = "wrk not found on PATH: install Debian's wrk package (.ci/run does)"
            raise FileNotFoundError(msg)
        self._scratch = tempfile.TemporaryDirectory(prefix="wrk-")
        scratch = Path(self._scratch.name)
        script = scratch / "report.lua"
        script.write_text(self._script, encoding="utf-8")
        self._stdout = (scratch / "stdout").open("w+", encoding="utf-8")
        self._process = subprocess.Popen(
            [
                wrk,
                f"-t{self.threads}",
                f"-c{self.connections}",
                f"-d{max(1, round(self.max_seconds))}s",
                f"--timeout={self.timeout_seconds:g}s",
                "-s",
                str(script),
                self.url,
            ],
            stdout=self._stdout,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def __exit__(self, *_: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._stdout is not None:
            self._stdout.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    def stop(self) -> WrkResult:
        """Stop the load now (SIGINT) and return wrk's counts; raises if wrk ended before being stopped."""
        if self._process is None or self._stdout is None:
            msg = "BackgroundWrk.stop() outside its `with` block"
            raise RuntimeError(msg)
        if self._process.poll() is not None:
            msg = (
                f"wrk ended on its own (exit {self._process.returncode}) before the measured events were over"
            )
            raise RuntimeError(msg + f": max_seconds={self.max_seconds:g} too short? {self._output()[-500:]}")
        self._process.send_signal(signal.SIGINT)
        self._process.wait(timeout=30)
        output = self._output()
        for line in output.splitlines():
            if line.startswith(_MARKER):
                fields = json.loads(line.removeprefix(_MARKER))
                fields.pop("bytes")
                return WrkResult(**fields)
        msg = f"wrk printed no result (exit {self._process.returncode}): {output[-500:]}"
        raise RuntimeError(msg)

    def _output(self) -> str:
        assert self._stdout is not None
        self._stdout.flush()
        self._stdout.seek(0)
        return self._stdout.read()
