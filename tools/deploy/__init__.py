"""Deploying the service (``python -m tools.deploy --help``): every command echoed, bounded, and checked."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence

from tools.common import CommandError, run, tail

__all__ = ["DeployError", "say", "sh"]


class DeployError(Exception):
    """A phase failed; the message says what happened and what was rolled back."""


def say(message: str) -> None:
    print(message, flush=True)  # noqa: T201 -- the deploy's log is its output


def sh(  # noqa: PLR0913 -- the keyword-only options of the one runner
    command: Sequence[str],
    *,
    what: str | None = None,
    stdin: str | None = None,
    timeout: int = 300,
    env: Mapping[str, str] | None = None,
    show: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Echo and run ``command`` (secrets go on stdin, never the command line); a hung tool fails the phase.

    With ``what``, a non-zero exit raises DeployError naming it; ``show`` passes the output to the log."""
    say(f"+ {shlex.join(command)}")
    try:
        # The AWS CLI must never page or prompt in a pipeline.
        result = run(command, stdin=stdin, timeout=timeout, env={"AWS_PAGER": "", **(env or {})})
    except CommandError as error:
        raise DeployError(str(error)) from error
    if show:
        sys.stdout.write(result.stdout + result.stderr)
    if what is not None and result.returncode != 0:
        detail = tail(result.stderr or result.stdout)
        msg = f"{what} failed (exit {result.returncode})" + (f":\n{detail}" if detail else "")
        raise DeployError(msg)
    return result
