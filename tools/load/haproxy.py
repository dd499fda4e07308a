"""HAProxy (Debian's) on loopback, standing in for the ALB's target group, driven through its runtime API.

The mapping to the target group:
- the ALB health check (path, interval, timeout, healthy/unhealthy thresholds) becomes HAProxy's active
  check (``option httpchk``, ``inter``, ``timeout check``, ``rise``, ``fall``);
- registering a target adds a server that gets no traffic until its checks pass ``rise`` times, as a new
  ALB target stays ``initial`` until it is healthy;
- deregistering a target puts its server in ``drain``: no new requests, in-flight ones finish;
- ``retries 0`` and no ``option redispatch``: a request that fails is reported to the client, where the
  load generator counts it, instead of being replayed on another server and hidden.

With ``groups`` (canary releases), each group is a backend of its own standing in for one target group,
and the frontend forwards to them by weight as the ALB listener's weighted forward action does: a
``listener`` backend with one server per group, each server an internal frontend of that group's backend.
``set_weights`` is the release moving the listener's weights; every request a group answers is logged
(status and HAProxy's ``Tr``, the server's response time) so its numbers are its own, as CloudWatch's
are per target group.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import socket
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from tools.common import LOOPBACK, free_port

BACKEND = "replicas"
_FRONTEND = "alb"
_LOG_MARKER = "request-failed"
_LOG_FIELDS = re.compile(r"status=(?P<status>-?\d+) termination=(?P<termination>\S+) server=(?P<server>\S+)")
_LISTENER = "listener"
_GROUP_MARKER = "target-group"
_GROUP_FIELDS = re.compile(rf"^{_GROUP_MARKER} (?P<group>\S+) status=(?P<status>-?\d+) tr=(?P<tr>-?\d+)$")
# Debian installs it in /usr/sbin, which is not on an unprivileged user's PATH.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


class HAProxyError(RuntimeError):
    """HAProxy refused its configuration or a runtime command; the message quotes its answer."""


@dataclass(frozen=True)
class HealthCheck:
    path: str
    interval_seconds: float
    timeout_seconds: float
    healthy_threshold: int  # HAProxy rise
    unhealthy_threshold: int  # HAProxy fall


@dataclass(frozen=True)
class ServerState:
    status: str  # UP, DOWN, DRAIN, MAINT, possibly with a transition like "UP 1/2"
    check_status: str  # L7OK, L7STS (unexpected status), L4CON (refused), INI (not checked yet)...
    check_code: str  # HTTP status the last check got, if any
    current_sessions: int

    @property
    def healthy(self) -> bool:
        """Passing its checks: UP (possibly failing but not yet down) or DRAIN (healthy, no new requests)."""
        return self.status.split(" ", 1)[0] in {"UP", "DRAIN"}

    @property
    def down(self) -> bool:
        """Failed ``fall`` checks in a row (or not yet passed ``rise``): gets no traffic."""
        return self.status.startswith("DOWN")


def find_haproxy() -> str | None:
    return shutil.which("haproxy", path=_SEARCH_PATH)


def _ms(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


class HAProxy:
    """One HAProxy process with an HTTP frontend and an empty backend; servers come and go at run time."""

    _process: subprocess.Popen[bytes]  # set on entering the `with` block

    def __init__(
        self,
        workdir: Path,
        *,
        health_check: HealthCheck,
        idle_timeout_seconds: float,
        groups: tuple[str, ...] = (),
    ) -> None:
        self.health_check = health_check
        self.groups = groups
        self.idle_timeout_seconds = idle_timeout_seconds
        self.port = free_port()
        self.socket_path = workdir / "admin.sock"
        self.config_path = workdir / "haproxy.cfg"
        self.log_path = workdir / "haproxy.log"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def render_config(self) -> str:
        check = self.health_check
        idle = _ms(self.idle_timeout_seconds)
        return (
            f"""\
# Generated for one rehearsal run; the ALB's settings come from api/service.json.
global
    nbthread 1
    stats socket {self.socket_path} mode 600 level admin
    stats timeout 10s
    log stdout format raw daemon

defaults
    mode http
    log global
    # Only requests that did not end normally are logged, with the proxy's reason (termination state).
    option httplog
    option dontlog-normal
    log-format "{_LOG_MARKER} status=%ST termination=%tsc server=%s"
    # A failed request must reach the client (and be counted), never be retried elsewhere.
    retries 0
    no option redispatch
    timeout connect 2s
    # The ALB's idle timeout bounds every idle period, on either side of the proxy.
    timeout client {idle}
    timeout server {idle}
    timeout http-keep-alive {idle}
    timeout http-request 10s
    timeout check {_ms(check.timeout_seconds)}

frontend {_FRONTEND}
    bind {LOOPBACK}:{self.port}
    default_backend {_LISTENER if self.groups else BACKEND}
"""
            + "".join(self._backend(group) for group in self.groups or (BACKEND,))
            + (f"\nbackend {_LISTENER}\n    balance random(1)\n" if self.groups else "")
            # Weighted random per request (round robin hands a server whose weight rises from 0 a run of
            # requests in a row first, which the ALB does not); all to the first group until set_weights.
            + "".join(
                f"    server {group} abns@haproxy-{self.port}-{group} weight {0 if index else 100}\n"
                for index, group in enumerate(self.groups)
            )
        )

    def _backend(self, name: str) -> str:
        """A target group; with groups, behind an internal frontend of its own that logs its answers."""
        internal = f"""
frontend {name}
    bind abns@haproxy-{self.port}-{name}
    no option dontlog-normal
    log-format "{_GROUP_MARKER} %b status=%ST tr=%Tr"
    default_backend {name}
"""
        return f"""{internal if self.groups else ""}
backend {name}
    balance roundrobin
    option httpchk GET {self.health_check.path}
    http-check expect status 200
"""

    def __enter__(self) -> Self:
        binary = find_haproxy()
        if binary is None:
            msg = "haproxy not found: install Debian's haproxy package (.ci/run does)"
            raise FileNotFoundError(msg)
        self.config_path.write_text(self.render_config(), encoding="utf-8")
        # A configuration haproxy rejects ends it at once, its reasons in the log quoted below.
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 -- haproxy found on PATH, our own config
                [binary, "-db", "-f", str(self.config_path)], stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_until_listening(timeout=10)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                msg = f"haproxy exited with {self._process.returncode}: {self.log_path.read_text()[-2000:]}"
                raise HAProxyError(msg)
            # The runtime API answers once start-up is over, listeners bound; no probe connection needed
            # (it would show up in the log as an aborted request).
            with contextlib.suppress(OSError, HAProxyError):
                if self._stat_row(_FRONTEND, "FRONTEND")["status"] == "OPEN":
                    return
            time.sleep(0.02)
        msg = f"haproxy not listening on {self.port} within {timeout} s"
        raise TimeoutError(msg)

    def command(self, line: str) -> str:
        """One runtime API command over the admin socket; returns HAProxy's answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
            admin.settimeout(10)
            admin.connect(str(self.socket_path))
            admin.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := admin.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def _expect(self, line: str, *, answer: str = "") -> None:
        said = self.command(line).strip()
        if said != answer:
            msg = f"haproxy {line!r}: {said or '(no answer)'}"
            raise HAProxyError(msg)

    # ------------------------------------------------------------------ targets

    def register(self, name: str, port: int, *, backend: str = BACKEND) -> None:
        """Add a server, health-checked at once, that takes no traffic until admitted: a dynamic server would
        start UP, an ALB target starts ``initial``. So it starts drained and forced DOWN; ``rise`` passing
        checks make it healthy, and ``admit`` lets requests in."""
        check = self.health_check
        server = f"{backend}/{name}"
        self._expect(
            f"add server {server} {LOOPBACK}:{port} check inter {_ms(check.interval_seconds)} "
            f"rise {check.healthy_threshold} fall {check.unhealthy_threshold}",
            answer="New server registered.",
        )
        self._expect(f"enable health {server}")
        self._expect(f"set server {server} state drain")
        self._expect(f"set server {server} health down")

    def admit(self, name: str, *, backend: str = BACKEND) -> None:
        self._expect(f"set server {backend}/{name} state ready")

    def deregister(self, name: str, *, backend: str = BACKEND) -> None:
        """Stop sending new requests to the server; requests already sent there finish."""
        self._expect(f"set server {backend}/{name} state drain")

    def remove(self, name: str, *, backend: str = BACKEND, timeout: float = 10.0) -> None:
        """Take the server out entirely (the target is gone from the target group)."""
        server = f"{backend}/{name}"
        self._expect(f"set server {server} state maint")
        self._expect(f"shutdown sessions server {server}")
        deadline = time.monotonic() + timeout
        while True:
            said = self.command(f"del server {server}").strip()
            if said == "Server deleted.":
                return
            if time.monotonic() > deadline:
                msg = f"haproxy del server {server}: {said}"
                raise HAProxyError(msg)
            time.sleep(0.05)

    def set_weights(self, weights: dict[str, int]) -> None:
        """The listener's weight for each group (0..256; 0 sends it nothing)."""
        for group, weight in weights.items():
            self._expect(f"set weight {_LISTENER}/{group} {weight}")

    # ------------------------------------------------------------------ observations

    def _stat_row(self, proxy: str, name: str) -> dict[str, str]:
        text = self.command("show stat").removeprefix("# ")
        for row in csv.DictReader(line for line in text.splitlines() if line):
            if (row["pxname"], row["svname"]) == (proxy, name):
                return row
        msg = f"haproxy has no {proxy}/{name}"
        raise HAProxyError(msg)

    def server(self, name: str, *, backend: str = BACKEND) -> ServerState:
        row = self._stat_row(backend, name)
        return ServerState(
            status=row["status"],
            check_status=row["check_status"].removeprefix("* "),
            check_code=row["check_code"],
            current_sessions=int(row["scur"] or 0),
        )

    def sessions(self, backend: str) -> int:
        """Requests in flight in ``backend`` now."""
        return int(self._stat_row(backend, "BACKEND")["scur"] or 0)

    def frontend_counters(self) -> dict[str, int]:
        """Requests the frontend received and the responses it sent, by status class."""
        row = self._stat_row(_FRONTEND, "FRONTEND")
        names = ("req_tot", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")
        return {name: int(row[name] or 0) for name in names}

    def wait_until(self, name: str, what: str, *, timeout: float, backend: str = BACKEND) -> ServerState:
        """Poll until the server's state is ``what`` ("healthy" or "down")."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.server(name, backend=backend)
            if getattr(state, what):
                return state
            if time.monotonic() > deadline:
                msg = f"{backend}/{name} not {what} within {timeout:g} s: {state}"
                raise TimeoutError(msg)
            time.sleep(0.02)

    def abnormal_requests(self, since: int = 0) -> dict[str, int]:
        """Requests that did not end normally, by "status termination-state server", from the proxy's log.

        The termination state is HAProxy's reason: ``SC`` the server refused the connection, ``SH`` it
        closed before sending headers, ``CD`` the client went away, ``SQ`` nothing to send to...
        """
        found: Counter[str] = Counter()
        for line in self._log(since)[1]:
            if _LOG_MARKER in line and (match := _LOG_FIELDS.search(line)):
                found[f"{match['status']} {match['termination']} {match['server']}"] += 1
        return dict(found.most_common())

    def _log(self, since: int) -> tuple[int, list[str]]:
        """The log's whole lines after byte ``since``, and the offset to read from next."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read()
        text = text[: text.rfind(b"\n") + 1]
        return since + len(text), text.decode("utf-8", errors="replace").splitlines()

    def group_requests(self, since: int) -> tuple[int, list[tuple[str, int, int]]]:
        """Requests the groups answered, logged after byte ``since`` of the log: (group, status, Tr in ms;
        -1 when no response came), and the offset to read from next."""
        offset, lines = self._log(since)
        matches = (_GROUP_FIELDS.match(line) for line in lines)
        return offset, [(m["group"], int(m["status"]), int(m["tr"])) for m in matches if m]
