#!/usr/bin/env python3
"""Download the pinned upstream CRD schemas into DIR, each checked against its pinned sha256.

On a developer's machine the schemas the custom resources are validated against come from
../shared/schemas beside the repository. A CI runner has a plain checkout, so it fetches the upstream
files at the commits pinned in .github/crd-schemas.json, saves them under the same file names and points
MANIFESTS_CRD_SCHEMA_DIR at DIR. Every file is downloaded and verified before any is written: an
unreachable file or a checksum that differs fails the run, names the file, and leaves DIR as it was.

Usage: fetch_crd_schemas.py [--pins PINS_JSON] [--base-url URL] DIR
  --base-url  where <repo>/<commit>/<path> is read from: https://raw.githubusercontent.com by default,
              or file:///a/mirror laid out the same way (no network).
Exit status: 0 every file fetched and verified, 1 a download failed or a checksum differs, 2 bad
arguments or pins.

Re-pinning: choose the upstream commit, download the file from the raw URL, `sha256sum` it and update
the entry (and same_as_shared / difference) in the pins file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PINS = Path(__file__).resolve().parents[1] / "crd-schemas.json"
DEFAULT_BASE_URL = "https://raw.githubusercontent.com"
ALLOWED_SCHEMES = frozenset({"https", "file"})
EXIT_FAILED = 1
EXIT_INVALID = 2
TIMEOUT_SECONDS = 60
ATTEMPTS = 3
# The largest schema is ~120 KB; anything far bigger is not the file we pinned.
MAX_BYTES = 4 * 1024 * 1024

_FIELDS = {
    "file": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.yaml"),
    "repo": re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"),
    "commit": re.compile(r"[0-9a-f]{40}"),
    "path": re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*"),
    "sha256": re.compile(r"[0-9a-f]{64}"),
}


class PinsError(ValueError):
    """The pins file cannot be used; the message lists every problem."""


class FetchError(RuntimeError):
    """One schema could not be downloaded."""


@dataclass(frozen=True, kw_only=True)
class Pin:
    file: str
    repo: str
    commit: str
    path: str
    sha256: str

    def url(self, base_url: str) -> str:
        return f"{base_url}/{self.repo}/{self.commit}/{self.path}"


def load_pins(path: Path) -> list[Pin]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        message = f"{path}: {error}"
        raise PinsError(message) from error
    entries = document.get("schemas") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        message = f"{path}: expected an object with a non-empty 'schemas' list"
        raise PinsError(message)
    problems: list[str] = []
    pins: list[Pin] = []
    files: list[str] = []
    for index, entry in enumerate(entries):
        where = f"{path}: schemas[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: not an object")
            continue
        values = {name: value for name in _FIELDS if isinstance(value := entry.get(name), str)}
        bad = [name for name, pattern in _FIELDS.items() if not pattern.fullmatch(values.get(name, ""))]
        problems.extend(f"{where}: {name} {entry.get(name)!r} is not a valid {name}" for name in bad)
        if not bad:
            pins.append(Pin(**values))
        if "file" not in bad:
            files.append(values["file"])
    counts = Counter(files)
    problems.extend(f"{path}: {name} is pinned twice" for name, count in sorted(counts.items()) if count > 1)
    if problems:
        raise PinsError("\n".join(problems))
    return pins


def checked_base_url(base_url: str) -> str:
    scheme = urlsplit(base_url).scheme
    if scheme not in ALLOWED_SCHEMES:
        message = f"--base-url {base_url!r}: only {' or '.join(sorted(ALLOWED_SCHEMES))} URLs are fetched"
        raise PinsError(message)
    return base_url.rstrip("/")


def _read(url: str) -> bytes:
    # The scheme is https or file: checked_base_url refused every other one.
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        data: bytes = response.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        message = f"{url}: larger than {MAX_BYTES} bytes"
        raise FetchError(message)
    return data


def _retryable(error: Exception) -> bool:
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code == 429  # noqa: PLR2004 -- server errors and throttling
    return isinstance(error, (urllib.error.URLError, TimeoutError, ConnectionError))


def fetch(url: str) -> bytes:
    """The bytes at url; transient network errors are retried, a missing file is not."""
    attempts = ATTEMPTS if url.startswith("https:") else 1
    for attempt in range(1, attempts + 1):
        try:
            return _read(url)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if attempt == attempts or not _retryable(error):
                message = f"{url}: {error}"
                raise FetchError(message) from error
            time.sleep(2**attempt)
    raise AssertionError  # unreachable: the last attempt returns or raises


def fetch_all(pins: list[Pin], base_url: str, destination: Path) -> list[str]:
    """Download and verify every pin; only when all are good, move them into destination.

    Returns the problems (empty on success); on any problem destination is left untouched."""
    destination.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".crd-schemas-", dir=destination))
    try:
        problems: list[str] = []
        for pin in pins:
            url = pin.url(base_url)
            try:
                data = fetch(url)
            except FetchError as error:
                problems.append(f"{pin.file}: download failed: {error}")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest != pin.sha256:
                problems.append(f"{pin.file}: sha256 {digest} is not the pinned {pin.sha256} ({url})")
                continue
            (staging / pin.file).write_bytes(data)
        if problems:
            return problems
        for pin in pins:
            (staging / pin.file).replace(destination / pin.file)
        return []
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fetch_crd_schemas.py",
        description="Download the pinned upstream CRD schemas into DIR, each checked against its sha256.",
    )
    parser.add_argument("dir", type=Path, help="where the schemas go (created if missing)")
    parser.add_argument("--pins", type=Path, default=DEFAULT_PINS, help=f"default: {DEFAULT_PINS}")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help=f"default: {DEFAULT_BASE_URL}")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    arguments = _parse(argv)
    try:
        pins = load_pins(arguments.pins)
        base_url = checked_base_url(arguments.base_url)
    except PinsError as error:
        sys.stderr.writelines(f"error: {line}\n" for line in str(error).splitlines())
        return EXIT_INVALID
    destination = arguments.dir.resolve()
    try:
        problems = fetch_all(pins, base_url, destination)
    except OSError as error:
        sys.stderr.write(f"error: {destination}: {error}\n")
        return EXIT_INVALID
    if problems:
        sys.stderr.writelines(f"error: {problem}\n" for problem in problems)
        sys.stderr.write(f"error: no schema was written to {destination}\n")
        return EXIT_FAILED
    sys.stdout.write(f"{len(pins)} CRD schemas fetched and verified into {destination}:\n")
    sys.stdout.writelines(
        f"  {pin.file}  sha256 {pin.sha256}  {pin.repo}@{pin.commit} {pin.path}\n" for pin in pins
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
