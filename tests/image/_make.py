"""The Makefile asked for what it would do, without doing it: a variable's value, a target's dry run.

The image tests compare the Dockerfile and their own build with what `make image` uses, so they ask make
rather than re-reading the Makefile's text (the values go through make's own expansion).
"""

from __future__ import annotations

import os
import shlex
import subprocess

from tools.common import REPO_ROOT

_TIMEOUT_SECONDS = 60


def _make(*args: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "--silent", *args],
        cwd=REPO_ROOT,
        # A surrounding `make test` must not hand its own flags (-n, -j ...) to this one.
        env={key: value for key, value in os.environ.items() if not key.startswith("MAKE")},
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        msg = f"make {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"
        raise RuntimeError(msg)
    return result.stdout


def value(variable: str) -> str:
    """The expanded value of a Makefile variable, exactly as make holds it (quotes included)."""
    # --eval is read before the Makefile, so the value is printed from a recipe, expanded after it.
    output = _make("--eval", f"make-value: ; @:$(info $({variable}))", "make-value")
    return output.rstrip("\n")


def dry_run_command(target: str, program: str, *variables: str) -> list[str]:
    """The words of the one command starting with `program` that `make -n target` would run."""
    output = _make("--dry-run", target, *variables).replace("\\\n", " ")
    commands = [shlex.split(line) for line in output.splitlines() if line.startswith(f"{program} ")]
    if len(commands) != 1:
        msg = f"make -n {target}: expected one '{program}' command, found {len(commands)}:\n{output}"
        raise RuntimeError(msg)
    return commands[0]
