"""Running the pipeline's commands: each one echoed, bounded in time, its failure a DeployError."""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["COMMAND_TIMEOUT_SECONDS", "REPO_ROOT", "DeployError", "Shell", "say"]

REPO_ROOT = Path(__file__).resolve().parents[3]
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
        self.environ = dict(environ)
        # The AWS CLI must never page or prompt in a pipeline.
        self.environ["AWS_PAGER"] = ""

    def run(
        self,
        command: Sequence[str],
        *,
        stdin: str | None = None,
        timeout: int = COMMAND_TIMEOUT_SECONDS,
        capture: bool = True,
        extra_env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        say(f"+ {shlex.join(command)}")
        environ = {**self.environ, **(extra_env or {})}
        try:
            return subprocess.run(  # noqa: S603 -- argv lists of our own; no shell
                list(command),
                input=stdin,
                capture_output=capture,
                text=True,
                timeout=timeout,
                env=environ,
                cwd=REPO_ROOT,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            msg = f"{command[0]} did not finish within {timeout} s: {shlex.join(command)}"
            raise DeployError(msg) from error
        except OSError as error:
            msg = f"cannot run {command[0]}: {error}"
            raise DeployError(msg) from error

    def check(
        self,
        command: Sequence[str],
        *,
        what: str,
        stdin: str | None = None,
        timeout: int = COMMAND_TIMEOUT_SECONDS,
        capture: bool = True,
    ) -> str:
        """Run ``command``; DeployError naming ``what`` (with its output when captured) unless it succeeds."""
        result = self.run(command, stdin=stdin, timeout=timeout, capture=capture)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout or "").strip() if capture else ""
            msg = f"{what} failed (exit {result.returncode})" + (f":\n{detail}" if detail else "")
            raise DeployError(msg)
        return result.stdout or ""
