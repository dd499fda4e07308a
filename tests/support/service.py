"""Start the real service (``python -m api``) on a loopback port, for tests, the benchmark and rehearsals."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def get(
    port: int, path: str, *, timeout: float = 2.0, headers: Mapping[str, str] | None = None
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_ready(
    port: int, *, path: str = "/ready", timeout: float = 15.0, process: subprocess.Popen[bytes] | None = None
) -> float:
    """Poll until ``path`` answers 200; return the seconds waited. Raise if the process dies or time is up."""
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process is not None and process.poll() is not None:
            msg = f"service exited with {process.returncode} before it was ready"
            raise RuntimeError(msg)
        with contextlib.suppress(OSError):
            if get(port, path, timeout=0.5)[0] == 200:
                return time.perf_counter() - started
        time.sleep(0.005)
    msg = f"service on port {port} not ready within {timeout} s"
    raise TimeoutError(msg)


@dataclass
class ServiceProcess:
    """A running ``python -m api``; its combined output goes to ``log_path``."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def terminate(self, timeout: float = 30.0) -> int:
        """Send SIGTERM (unless it already exited) and wait; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8").splitlines()


def start_service(
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    command: list[str] | None = None,
    port: int | None = None,
    wait: bool = True,
) -> ServiceProcess:
    """Spawn the service with production settings (plus ``env``) and wait until it is ready."""
    port = port or free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PREDICTOR_")}
    environment |= {"PREDICTOR_HOST": LOOPBACK, "PREDICTOR_PORT": str(port), **(env or {})}
    log = log_path.open("wb")
    process = subprocess.Popen(
        command or [sys.executable, "-m", "api"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    service = ServiceProcess(process=process, port=port, log_path=log_path, _log=log)
    if wait:
        try:
            wait_until_ready(port, process=process)
        except BaseException:
            process.kill()
            process.wait()
            log.close()
            raise
    return service


@contextlib.contextmanager
def running_service(log_path: Path, **kwargs: object) -> Iterator[ServiceProcess]:
    service = start_service(log_path, **kwargs)  # type: ignore[arg-type]
    try:
        yield service
    finally:
        service.terminate()
