"""HTTP/1.1 over a raw socket, for requests no well-behaved client library would send.

A request is a sequence of steps: bytes to send, and pauses (a slow client). The exchange stops sending
as soon as the server has answered or closed (it may refuse a body it will never read), then reads one
response. ``leave_early`` closes the connection after the steps without reading anything.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.load.service import LOOPBACK

__all__ = ["Pause", "RawResponse", "chunked", "exchange", "request_head"]


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    closed: bool  # the server closed the connection after this response
    elapsed: float
    raw_head: bytes = field(repr=False, default=b"")

    def json(self) -> Any:
        return json.loads(self.body)


def request_head(method: str, path: str, headers: Sequence[tuple[str, str]] = ()) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: proofs", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunked(body: bytes, size: int) -> bytes:
    """``body`` in chunks of ``size`` bytes with the terminating zero-length chunk."""
    pieces = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)
    ]
    return b"".join(pieces) + b"0\r\n\r\n"


def _answered(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _read_response(sock: socket.socket, deadline: float) -> tuple[bytes, bytes, bool]:
    """Head, body, and whether the server closed the connection after the response."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(sock, deadline)
        if not chunk:
            return data, b"", True
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    fields = [line.lower() for line in head.split(b"\r\n")[1:]]
    length = next(
        (int(line.split(b":", 1)[1]) for line in fields if line.startswith(b"content-length:")), None
    )
    while length is None or len(body) < length:
        chunk = _recv(sock, deadline)
        if not chunk:
            return head, body, True
        body += chunk
    if b"connection: close" not in fields:
        return head, body, False
    # It said it would close: check that it does (end of stream) rather than take its word.
    try:
        return head, body, _recv(sock, time.monotonic() + 2) == b""
    except TimeoutError:
        return head, body, False


def _recv(sock: socket.socket, deadline: float) -> bytes:
    sock.settimeout(max(0.01, deadline - time.monotonic()))  # past it: TimeoutError, the server hangs
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


def exchange(
    port: int, steps: Sequence[bytes | Pause], *, timeout: float = 20.0, leave_early: bool = False
) -> RawResponse | None:
    started = time.monotonic()
    deadline = started + timeout
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        for step in steps:
            if _answered(sock):
                break
            if isinstance(step, Pause):
                select.select([sock], [], [], step.seconds)  # the pause ends early if the server answers
                continue
            try:
                sock.sendall(step)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server stopped reading: its answer (if any) is waiting
        if leave_early:
            return None
        head, body, closed = _read_response(sock, deadline)
    if not head:
        msg = f"no response (connection closed after {time.monotonic() - started:.2f} s)"
        raise ConnectionError(msg)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(
        status=int(status_line.split()[1]),
        headers=headers,
        body=body,
        closed=closed,
        elapsed=time.monotonic() - started,
        raw_head=head,
    )
