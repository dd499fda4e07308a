"""``python -m tests.workflows.canary_driver STEP_SECONDS DEPLOY_ARGS...``: the deploy as the workflow runs
it, on the real environment and manifests, but with each canary step held STEP_SECONDS, not minutes.

With ``CANARY_SYNTHESIS_CACHE`` set, the release's synthesis runs once per distinct command and is copied
after: the stand-in registry always answers the same digest, so the output is the same every time, and
each run costs seconds of Node start-up (tests/workflows/test_deploy_script.py proves the synthesis).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tools.deploy.__main__ as deploy
from tools.deploy import inputs


def _memoized_synthesis(sh: Callable[..., subprocess.CompletedProcess[str]], cache: Path) -> Any:
    def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        if command[1:3] != ["-m", "manifests_py"]:
            return sh(command, **options)
        at = command.index("--out") + 1
        cached = cache / hashlib.sha256(json.dumps(command[:at] + command[at + 1 :]).encode()).hexdigest()
        if not cached.exists():
            sh([*command[:at], str(cached), *command[at + 1 :]], **options)
        shutil.copytree(cached, command[at])
        return subprocess.CompletedProcess(command, 0, "", "")

    return run


def main() -> int:
    read_environment, step_seconds = inputs._read_environment, float(sys.argv[1])  # noqa: SLF001

    def quick(environment: str) -> inputs.Target:
        target = read_environment(environment)
        assert target.traffic is not None  # every environment has [traffic]
        return dataclasses.replace(
            target, traffic=target.traffic.model_copy(update={"step_seconds": step_seconds})
        )

    inputs._read_environment = quick  # noqa: SLF001
    if cache := os.environ.get("CANARY_SYNTHESIS_CACHE"):
        deploy.sh = _memoized_synthesis(deploy.sh, Path(cache))
    return deploy.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
