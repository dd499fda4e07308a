"""`make run` starts from compiled bytecode whatever PYTHONDONTWRITEBYTECODE says: every module the server
imports, up to its first answer and the Litestar app it builds after, has a current .pyc."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from api.service_card import load_service_card
from tools.common import REPO_ROOT, free_port
from tools.load.bench import make_run_command
from tools.load.service import get, running_service

pytestmark = pytest.mark.slow

RUN_PYTHON = REPO_ROOT / ".venv-run" / "bin" / "python"
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(?P<module>\S+)$")

# Run by the run environment's interpreter: for each module that loads from a .py file, whether its cached
# bytecode exists and matches the source (timestamp and size, or the source hash for hash-based .pyc).
_STALE_OR_MISSING = """
import importlib.util, json, os, sys
bad = []
for name in json.load(sys.stdin):
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        continue
    if spec is None or not (spec.origin or "").endswith(".py"):
        continue
    try:
        with open(spec.cached, "rb") as pyc:
            header = pyc.read(16)
    except OSError:
        bad.append(name)
        continue
    source = os.stat(spec.origin)
    flags = int.from_bytes(header[4:8], "little")
    if flags & 1:
        with open(spec.origin, "rb") as text:
            current = header[8:16] == importlib.util.source_hash(text.read())
    else:
        stamp = int(source.st_mtime) & 0xFFFFFFFF, source.st_size & 0xFFFFFFFF
        current = (int.from_bytes(header[8:12], "little"), int.from_bytes(header[12:16], "little")) == stamp
    if header[:4] != importlib.util.MAGIC_NUMBER or not current:
        bad.append(name)
print(json.dumps(bad))
"""


def _modules_imported_until_ready(tmp_path) -> list[str]:
    port = free_port()
    log = tmp_path / "service.log"
    env = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPROFILEIMPORTTIME": "1"}
    with running_service(log, command=make_run_command(port), port=port, env=env, timeout=30):
        # Litestar loads in the background after start-up; the document is served once it has.
        assert get(port, load_service_card().paths.openapi, timeout=30)[0] == 200
    modules = [match["module"] for line in log.read_text().splitlines() if (match := _IMPORTED.match(line))]
    assert "litestar" in modules, "the import profile did not reach the log"
    return modules


def test_make_run_imports_only_compiled_modules(tmp_path):
    # What `make run` does before it starts the server: install or compile whatever is missing or stale.
    subprocess.run(["make", "-s", ".venv-run/.api-compiled"], cwd=REPO_ROOT, check=True, timeout=300)
    modules = _modules_imported_until_ready(tmp_path)
    checked = subprocess.run(
        [RUN_PYTHON, "-c", _STALE_OR_MISSING],
        input=json.dumps(modules),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={"PYTHONDONTWRITEBYTECODE": "1"},
        timeout=60,
    )
    uncompiled = json.loads(checked.stdout)
    assert not uncompiled, f"imported at start without current bytecode: {uncompiled}"
