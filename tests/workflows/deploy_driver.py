"""``python -m tests.workflows.deploy_driver DEPLOY_ARGS...``: the deploy, ``python -m tools.deploy``, whose
release synthesis runs once per distinct command when ``DEPLOY_SYNTHESIS_CACHE`` names a folder, and is
copied after. The stand-in registry always answers the same digest, so a command's output is the same
every time, and each synthesis costs seconds of Node start-up; the first run of each command is real.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import tools.deploy.__main__ as deploy

CACHE_VARIABLE = "DEPLOY_SYNTHESIS_CACHE"


def memoize_synthesis() -> None:
    """Route the deploy's synthesis through the cache, when one is named."""
    if not (cache := os.environ.get(CACHE_VARIABLE)):
        return
    sh = deploy.sh

    def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        if command[1:3] != ["-m", "manifests_py"]:
            return sh(command, **options)
        at = command.index("--out") + 1
        key = hashlib.sha256(json.dumps(command[:at] + command[at + 1 :]).encode()).hexdigest()
        cached = Path(cache) / key
        if not cached.exists():
            sh([*command[:at], str(cached), *command[at + 1 :]], **options)
        shutil.copytree(cached, command[at])
        return subprocess.CompletedProcess(command, 0, "", "")

    deploy.sh = run


if __name__ == "__main__":
    memoize_synthesis()
    sys.exit(deploy.main(sys.argv[1:]))
