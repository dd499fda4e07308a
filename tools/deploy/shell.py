"""Running the pipeline's commands: each one echoed, bounded in time, its failure a DeployError."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence

from tools.common import CommandError, run, tail

__all__ = ["COMMAND_TIMEOUT_SECONDS", "DeployError", "Shell", "say"]

# Bounds on every external command, so a hung tool fails the phase instead of the job's timeout.
COMMAND_TIMEOUT_SECONDS = 300


class DeployError(Exception):
    """A phase failed; the message says what happened and what was rolled back."""


def say(message: str) -> None:
    sys.stdout.write(f"{message}\n")
    sys.stdout.flush()


class Shell:
    """Runs external commands, echoing each one (secrets never go on a command line: stdin only)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        # The AWS CLI must never page or prompt in a pipeline.
        self.environ = {**environ, "AWS_PAGER": ""}

    def run(
        self,
        command: Sequence[str],
        *,
        stdin: str | None = None,
        timeout: int = COMMAND_TIMEOUT_SECONDS,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        say(f"+ {shlex.join(command)}")
        try:
            return run(command, stdin=stdin, timeout=timeout, env={**self.environ, **(extra_env or {})})
        except CommandError as error:
            raise DeployError(str(error)) from error

    def check(
        self,
        command: Sequence[str],
        *,
        what: str,
        stdin: str | None = None,
        timeout: int = COMMAND_TIMEOUT_SECONDS,
        show: bool = False,
    ) -> str:
        """Run ``command``; DeployError naming ``what`` and the end of its output unless it succeeds.

        ``show`` passes a long step's output (a build, a push) on to this job's log."""
        result = self.run(command, stdin=stdin, timeout=timeout)
        if show:
            sys.stdout.write(result.stdout + result.stderr)
        if result.returncode != 0:
            detail = tail(result.stderr or result.stdout)
            msg = f"{what} failed (exit {result.returncode})" + (f":\n{detail}" if detail else "")
            raise DeployError(msg)
        return result.stdout
