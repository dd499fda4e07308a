"""Start a server (by default the service, ``python -m api``) on a loopback port, wait until it answers, and
read what a process uses (CPU time, resident memory) from /proc. For the load tools and the tests."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from api.model import load_model
from api.settings import BUNDLED_MODEL_PATH
from tools.common import LOOPBACK, REPO_ROOT, free_port

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def sample_row() -> dict[str, float]:
    """One scoring request's features, from the bundled model's own names (never a retyped list)."""
    model = load_model(BUNDLED_MODEL_PATH)
    return {name: round(mean, 3) for name, mean in zip(model.feature_names, model.baseline, strict=True)}


def get(port: int, path: str, *, timeout: float = 2.0) -> tuple[int, bytes]:
    with contextlib.closing(http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)) as connection:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()


@dataclass
class ServiceProcess:
    """A running server; its combined output goes to ``log_path``."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    ready_seconds: float = 0.0  # from spawn to the first answer on the ready path (start-up included)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def terminate(self, timeout: float = 30.0) -> int:
        """Send SIGTERM (unless it already exited) and wait; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)  # Popen skips a process it knows has exited
        return self.wait(timeout)

    def wait(self, timeout: float = 30.0) -> int:
        return self.process.wait(timeout=timeout)

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(encoding="utf-8").splitlines()

    def wait_until_ready(self, path: str, timeout: float) -> None:
        """Poll until ``path`` answers 200; raise if the process dies or time is up."""
        started = time.perf_counter()
        while time.perf_counter() < started + timeout:
            if self.process.poll() is not None:
                msg = f"service exited with {self.process.returncode} before it was ready"
                raise RuntimeError(msg)
            with contextlib.suppress(OSError):
                if get(self.port, path, timeout=0.5)[0] == http.HTTPStatus.OK:
                    self.ready_seconds = time.perf_counter() - started
                    return
            time.sleep(0.005)
        msg = f"service on port {self.port} not ready within {timeout} s"
        raise TimeoutError(msg)


def start_service(  # noqa: PLR0913 -- keyword-only options of one spawn
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    command: list[str] | None = None,
    port: int | None = None,
    wait: bool = True,
    ready_path: str = "/ready",
    timeout: float = 15.0,
) -> ServiceProcess:
    """Spawn ``command`` (default: the service with production settings, plus ``env``) and wait until
    ``ready_path`` answers 200. The service's PREDICTOR_HOST and PREDICTOR_PORT are set either way."""
    port = port or free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PREDICTOR_")}
    environment |= {"PREDICTOR_HOST": LOOPBACK, "PREDICTOR_PORT": str(port), **(env or {})}
    with log_path.open("wb") as log:  # the child writes to its own copy of the descriptor
        process = subprocess.Popen(  # noqa: S603 -- the caller's own server command, no shell
            command or [sys.executable, "-m", "api"],
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    service = ServiceProcess(process=process, port=port, log_path=log_path)
    if wait:
        try:
            service.wait_until_ready(ready_path, timeout)
        except BaseException:
            process.kill()
            service.wait()
            raise
    return service


@contextlib.contextmanager
def running_service(log_path: Path, **kwargs: object) -> Iterator[ServiceProcess]:
    service = start_service(log_path, **kwargs)  # type: ignore[arg-type]
    try:
        yield service
    finally:
        service.terminate()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime and stime are fields 14 and 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident memory: statm's second field, in pages (the figure `status` prints as VmRSS)."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES
