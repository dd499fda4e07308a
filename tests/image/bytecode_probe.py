"""Runs inside the image (stdin to its python): which bytecode will each module the service imports use?

Imports what `python -m api` (at start, and Litestar just after) and the HEALTHCHECK import, then reads
the header of every loaded module's cached bytecode. Prints {module: {"origin": ..., "state": ...}} as
JSON. A "missing" or "stale" state means the interpreter compiles that module at every start (it can't
write the result: read-only root, and PYTHONDONTWRITEBYTECODE). Standard library only: this is the
image's interpreter, not the test's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

# Imported for what they load into sys.modules.
import api.healthcheck
import api.litestar_app
import api.server  # noqa: F401

_HASH_BASED = 0b01
_CHECK_SOURCE = 0b10
_HEADER_BYTES = 16


def bytecode_state(source: str, cached: str) -> str:
    try:
        with open(cached, "rb") as handle:  # noqa: PTH123 - plain open keeps the probe minimal
            header = handle.read(_HEADER_BYTES)
    except FileNotFoundError:
        return "missing"
    if len(header) < _HEADER_BYTES or header[:4] != importlib.util.MAGIC_NUMBER:
        return "stale"
    flags = int.from_bytes(header[4:8], "little")
    if flags & _HASH_BASED:
        if not flags & _CHECK_SOURCE:
            return "unchecked-hash"
        with open(source, "rb") as handle:  # noqa: PTH123
            return "checked-hash" if importlib.util.source_hash(handle.read()) == header[8:16] else "stale"
    info = os.stat(source)  # noqa: PTH116
    fresh = (
        int.from_bytes(header[8:12], "little") == int(info.st_mtime) & 0xFFFFFFFF
        and int.from_bytes(header[12:16], "little") == info.st_size & 0xFFFFFFFF
    )
    return "timestamp" if fresh else "stale"


def main() -> None:
    report = {}
    for name, module in sorted(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        if spec is None or not spec.has_location or not (spec.origin or "").endswith(".py"):
            continue  # built-in, frozen, extension module or namespace package: no bytecode file
        state = "no-cache-path" if spec.cached is None else bytecode_state(spec.origin, spec.cached)
        report[name] = {"origin": spec.origin, "state": state}
    json.dump(report, sys.stdout)


main()
