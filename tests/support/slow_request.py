"""A POST held in flight on a raw socket: the body is sent but for its last bytes, which `finish` sends.

The drain tests use it to have requests in flight at the moment SIGTERM lands, without a slow endpoint.
"""

from __future__ import annotations

import socket

from tools.load.service import LOOPBACK

HELD_BACK = 10  # bytes of the body kept back, so the request stays in flight until `finish`


class SlowRequest:
    def __init__(self, port: int, path: str, body: bytes, *, timeout: float = 20.0, key: str = "") -> None:
        self._body = body
        self._sock = socket.create_connection((LOOPBACK, port), timeout=timeout)
        head = (
            (
                f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n"
            )
            + (f"Authorization: Bearer {key}\r\n" if key else "")
            + "\r\n"
        )
        self._sock.sendall(head.encode() + body[:-HELD_BACK])

    def finish(self) -> bytes:
        """Send the rest of the body and return the raw response (status line, headers, JSON body)."""
        self._sock.sendall(self._body[-HELD_BACK:])
        response = b""
        while b"\r\n\r\n" not in response or not response.rstrip().endswith(b"}"):
            chunk = self._sock.recv(65536)
            if not chunk:
                break
            response += chunk
        self._sock.close()
        return response

    def abandon(self) -> None:
        self._sock.close()
