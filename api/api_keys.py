"""The client API keys: read from a file, re-read when the file changes, matched in constant time.

The file holds one key per line; blank lines and lines starting with ``#`` are ignored, and so is space
around a key. A key is a bearer token (RFC 6750: letters, digits and ``-._~+/``, then optional ``=``) of
32 to 512 characters. In a cluster it is the Secrets Store CSI driver's mount of a Secrets Manager secret
whose value is that text, so rotating a key is: add the new line, let clients move, remove the old line.

The file is checked at most once per ``check_interval`` seconds (a ``stat``: device, inode, size, mtime,
following symlinks, so the CSI driver's swap of its ``..data`` link is seen) and re-read only when that
changes. A file that becomes missing, unreadable or invalid after start-up keeps the last good keys and
logs one warning per problem: never open, never an error for the client.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["MAX_FILE_BYTES", "MAX_KEY_CHARS", "MIN_KEY_CHARS", "ApiKeyFileError", "ApiKeys", "read_api_keys"]

MIN_KEY_CHARS = 32
MAX_KEY_CHARS = 512
MAX_FILE_BYTES = 65_536
BEARER_TOKEN = re.compile(rb"[A-Za-z0-9._~+/-]+=*")

_log = logging.getLogger("api.api_keys")


class ApiKeyFileError(ValueError):
    """The key file cannot be read or holds no valid key; the message never quotes a key."""


def _unreadable(error: OSError) -> str:
    return f"cannot read the key file: {error.strerror or error}"


def _digest(key: bytes) -> bytes:
    # Keys are held and compared as SHA-256 digests: equal lengths, so the comparison doesn't leak a key's
    # length, and the process keeps no key in clear.
    return hashlib.sha256(key).digest()


def read_api_keys(path: str | Path) -> tuple[bytes, ...]:
    """The digests of the keys in ``path``; ApiKeyFileError says which line is wrong, and why."""
    try:
        with Path(path).open("rb") as file:
            text = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ApiKeyFileError(_unreadable(error)) from None
    if len(text) > MAX_FILE_BYTES:
        msg = f"the key file is larger than {MAX_FILE_BYTES} bytes, the most a Secrets Manager secret holds"
        raise ApiKeyFileError(msg)
    digests: list[bytes] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        if not BEARER_TOKEN.fullmatch(line):
            msg = f"line {number}: not a bearer token (letters, digits and -._~+/ then optional =)"
            raise ApiKeyFileError(msg)
        if not MIN_KEY_CHARS <= len(line) <= MAX_KEY_CHARS:
            msg = (
                f"line {number}: a key of {len(line)} characters; keys must have "
                f"{MIN_KEY_CHARS} to {MAX_KEY_CHARS} to be hard to guess"
            )
            raise ApiKeyFileError(msg)
        digests.append(_digest(line))
    if not digests:
        msg = "no key in the key file (only blank lines and # comments)"
        raise ApiKeyFileError(msg)
    return tuple(dict.fromkeys(digests))


def _signature(path: Path) -> tuple[int, int, int, int]:
    stat = path.stat()  # follows symlinks: the CSI driver swaps the target, not the path
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class ApiKeys:
    """The current keys of one key file. Construction raises ApiKeyFileError if the file is not usable."""

    __slots__ = ("_clock", "_digests", "_interval", "_next_check", "_path", "_problem", "_signature")

    def __init__(
        self, path: str, *, check_interval: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._path = Path(path)
        self._interval = check_interval
        self._clock = clock
        try:
            self._signature = _signature(self._path)
        except OSError as error:
            raise ApiKeyFileError(_unreadable(error)) from None
        self._digests = read_api_keys(path)
        self._next_check = clock() + check_interval
        self._problem: str | None = None

    @property
    def path(self) -> str:
        return str(self._path)

    @property
    def count(self) -> int:
        return len(self._digests)

    def matches(self, token: bytes) -> bool:
        """Whether ``token`` is one of the keys; every key is compared, whichever matches."""
        now = self._clock()
        if now >= self._next_check:
            self._next_check = now + self._interval
            self._reload_if_changed()
        digest = _digest(token)
        found = False
        for key in self._digests:
            found |= hmac.compare_digest(digest, key)
        return found

    def _reload_if_changed(self) -> None:
        try:
            signature = _signature(self._path)
            if signature == self._signature:
                return
            digests = read_api_keys(self._path)
        except OSError as error:
            self._keep_last_keys(_unreadable(error))
            return
        except ApiKeyFileError as error:
            self._keep_last_keys(str(error))
            return
        self._signature = signature
        self._digests = digests
        self._problem = None
        _log.info("API keys reloaded from %s: %d keys", self._path, len(digests))

    def _keep_last_keys(self, problem: str) -> None:
        if problem != self._problem:
            self._problem = problem
            _log.warning("API key file %s: %s; keeping the last %d keys", self._path, problem, self.count)
