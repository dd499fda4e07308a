"""Shared by the pipeline tests: the parsed workflows and a sandbox to run the pipeline's scripts in."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.workflows import deploy_driver, stand_in_tools
from tools.common import REPO_ROOT

GITHUB_DIR = REPO_ROOT / ".github"
WORKFLOWS_DIR = GITHUB_DIR / "workflows"
SCRIPTS_DIR = GITHUB_DIR / "scripts"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
# The deploy (python -m tools.deploy), its release synthesis shared across a session's runs.
DEPLOY = "tests.workflows.deploy_driver"


def load_workflow(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS_DIR / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as the boolean true.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


@pytest.fixture(scope="session")
def workflows() -> dict[str, dict]:
    return {path.name: load_workflow(path.name) for path in sorted(WORKFLOWS_DIR.glob("*.yml"))}


@dataclass
class Sandbox:
    """A PATH of stand-in tools, their scenario and call log, and the environment to run a script in."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def scenario(self, tools: tuple[str, ...] = stand_in_tools.TOOLS, **scenario: object) -> None:
        self.env.update(stand_in_tools.install(self.root / "bin", scenario=scenario, tools=tools))

    def calls(self, tool: str | None = None) -> list[dict]:
        calls = stand_in_tools.read_calls(self.env)
        return [call for call in calls if tool is None or call["tool"] == tool]

    def commands(self) -> list[str]:
        """Each call as 'tool argv...' text, in order, for order assertions."""
        return [" ".join([call["tool"], *call["argv"]]) for call in self.calls()]

    def run(self, *arguments: str, module: str = DEPLOY) -> subprocess.CompletedProcess[str]:
        return self.execute(sys.executable, "-m", module, *arguments)

    def execute(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv),
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=180,
            check=False,
            cwd=self.root,
        )


@pytest.fixture(scope="session")
def synthesis_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synthesis")


@pytest.fixture
def sandbox(tmp_path: Path, synthesis_cache: Path) -> Sandbox:
    """Nothing of the machine leaks in: no AWS_* variables, and PATH is the stand-ins' directory alone
    (plus Node.js, which cdk8s runs on when release synthesizes), so a real kubectl or docker installed
    on the machine can never be reached."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    node = shutil.which("node")
    if node is not None:
        (bin_dir / "node").symlink_to(node)
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO_ROOT),  # the tools run as modules of this repository, from anywhere
        deploy_driver.CACHE_VARIABLE: str(synthesis_cache),
    }
    return Sandbox(root=tmp_path, env=env)


def index_of(commands: list[str], fragment: str) -> int:
    """Position of the first command containing ``fragment``; fails the test when there is none."""
    for index, command in enumerate(commands):
        if fragment in command:
            return index
    pytest.fail(f"no call contains {fragment!r}; calls were:\n" + "\n".join(commands))
    return -1
