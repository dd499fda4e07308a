"""One JSON object per line on stdout, for the access log and for every other log record.

The access log writes straight to the file descriptor: it runs once per request, and the ``logging``
machinery costs several times more than the encode and the write.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import msgspec

__all__ = ["LOG_CONFIG", "JsonFormatter", "JsonLineWriter", "timestamp"]

_encoder = msgspec.json.Encoder()
_second_cache: tuple[int, str] = (-1, "")


def timestamp(now: float | None = None) -> str:
    """UTC ISO 8601 with milliseconds; the formatted second is cached because it changes once a second."""
    global _second_cache  # noqa: PLW0603 - a one-entry cache of the formatted current second
    now = time.time() if now is None else now
    second = int(now)
    cached_second, prefix = _second_cache
    if second != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_cache = (second, prefix)
    return f"{prefix}.{int((now - second) * 1000):03d}Z"


class JsonLineWriter:
    """Writes records as JSON lines to a file descriptor (stdout by default)."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int = 1) -> None:
        self._fd = fd

    def write(self, record: dict[str, Any]) -> None:
        line = _encoder.encode(record) + b"\n"
        try:
            while line:
                written = os.write(self._fd, line)
                line = line[written:]
        except OSError:
            # A closed or full log pipe must not fail the request that is being logged.
            return


class JsonFormatter(logging.Formatter):
    """Formats stdlib records (uvicorn's and ours) in the same shape as the access log."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    },
    "loggers": {
        "uvicorn": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        # uvicorn's own access log is replaced by ours, which carries the request id and duration.
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        "api": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}
