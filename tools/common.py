"""What every tool here shares: where the repository is, how a command runs, how a file is written.

One copy of each, so a timeout, a colour escape or a half-written report is handled the same way everywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "LOOPBACK",
    "REPO_ROOT",
    "CommandError",
    "free_port",
    "markdown_table",
    "run",
    "strip_ansi",
    "tail",
    "write_atomic",
    "write_json",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every server a tool starts listens here only.
LOOPBACK = "127.0.0.1"

# Some tools colour their output even when told not to (zizmor does when CI is set); callers get plain text.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Asked of every tool, whatever it guesses from CI or a terminal.
_NO_COLOUR = {"NO_COLOR": "1", "CLICOLOR": "0", "FORCE_COLOR": "0"}


class CommandError(Exception):
    """A command could not start, or did not finish in time; the message names it."""


def strip_ansi(text: str) -> str:
    return _ANSI_ESCAPE.sub("", text)


def tail(text: str, lines: int = 25) -> str:
    """The end of a command's output, where its error is, for a failure message."""
    return "\n".join(text.strip().splitlines()[-lines:])


def run(
    command: Sequence[str],
    *,
    timeout: float,
    cwd: Path = REPO_ROOT,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (no shell), capture plain text output, and kill its whole process group on a timeout.

    ``env`` is added to this process's environment. A non-zero exit is returned, not raised: the caller
    knows what a failure means; a command that cannot start or overruns ``timeout`` raises CommandError.
    """
    argv = [str(part) for part in command]
    try:
        process = subprocess.Popen(  # noqa: S603 -- argv lists of our own; no shell
            argv,
            cwd=cwd,
            env={**os.environ, **_NO_COLOUR, **(env or {})},
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError as error:
        msg = f"cannot run {argv[0]}: {error}"
        raise CommandError(msg) from error
    with process:
        try:
            stdout, stderr = process.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            msg = f"{Path(argv[0]).name} did not finish within {timeout:g} s: {' '.join(argv)}"
            output = tail(strip_ansi(f"{stdout}\n{stderr}"))
            raise CommandError(f"{msg}\n{output}" if output else msg) from error
        except BaseException:  # a signal cancelling the caller: the command must not outlive it
            with contextlib.suppress(ProcessLookupError):  # it may have ended on its own meanwhile
                os.killpg(process.pid, signal.SIGKILL)
            raise
    return subprocess.CompletedProcess(argv, process.returncode, strip_ansi(stdout), strip_ansi(stderr))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An aligned Markdown table: it renders on GitHub and reads as plain text in a terminal."""
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([line(header), rule, *map(line, rows)])


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` whole (a temporary file beside ``path``, then a rename): never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".partial") as handle:
        handle.write(text)
    Path(handle.name).replace(path)
    return path


def write_json(path: Path, document: Any) -> Path:  # noqa: ANN401 -- any JSON document
    return write_atomic(path, json.dumps(document, indent=2) + "\n")
