"""The image's own entrypoint, run as its declared user: contract, HEALTHCHECK, bytecode, no writes, drain.

`buildah run` with chroot isolation shares the host's network, so the container listens on a free loopback
port (PREDICTOR_HOST/PREDICTOR_PORT overridden with --env, as a pod spec would). SIGTERM goes to the
server process itself, as a container runtime sends it to PID 1; buildah's own handling of signals is not
what is under test. The root filesystem is listed before and after, so any write outside /tmp shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.image import _rootfs
from tools.load.service import LOOPBACK, free_port, get, start_service

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = [pytest.mark.slow, pytest.mark.system]

PROBE = Path(__file__).with_name("bytecode_probe.py")
# Allowed to change: /tmp (the one writable place), and /run's own timestamps, which buildah moves when it
# creates and removes its /run/.containerenv mountpoint for each run. /run is root's (0755): the service's
# uid can't create anything directly in it, and /run/lock and every other path are still compared.
WRITABLE = frozenset({"tmp"})
RUNTIME_TOUCHED = "run"
_EXIT_TIMEOUT_SECONDS = 60


@dataclass
class Observed:
    """What one lifecycle of the container showed; each test below asserts one part of it."""

    server_status: dict[str, str] = field(default_factory=dict)
    responses: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    healthcheck: tuple[int, str] = (-1, "")
    healthcheck_without_server: tuple[int, str] = (-1, "")
    bytecode: dict[str, dict[str, str]] = field(default_factory=dict)
    exit_code: int | None = None
    seconds_to_exit: float | None = None
    rootfs_changes: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


def _children(pid: int) -> list[int]:
    children = []
    for status in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # The command name is in parentheses and may hold spaces; the parent pid follows it.
            fields = status.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.append(int(status.parent.name))
    return children


def _server_pid(root_pid: int, entrypoint: list[str]) -> int:
    """The descendant of `buildah run` executing the entrypoint's interpreter with its arguments."""
    pending = [root_pid]
    while pending:
        pid = pending.pop()
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")
            executable = Path(f"/proc/{pid}/exe").readlink().name
            if executable.startswith("python") and argv[1:] == entrypoint[1:]:
                return pid
        pending.extend(_children(pid))
    msg = f"no process running {entrypoint} under buildah run (pid {root_pid})"
    raise RuntimeError(msg)


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


@pytest.fixture(scope="module")
def observed(buildah, image, image_config, card, tmp_path_factory) -> Iterator[Observed]:
    seen = Observed()
    container = buildah.new_container(image.reference, f"predictor-image-test-run-{os.getpid()}")
    server_pid = None
    try:
        root = buildah.mount(container)
        # A first run lets buildah put in place what it keeps between runs before the "before" listing.
        buildah.run("run", container, "--", "python", "-c", "pass")
        before = _rootfs.snapshot(root, skip=WRITABLE)

        probe = buildah.run("run", container, "--", "python", "-", stdin=PROBE.read_text(encoding="utf-8"))
        seen.bytecode = json.loads(probe.stdout)

        port = free_port()
        settings = ["--env", f"PREDICTOR_HOST={LOOPBACK}", "--env", f"PREDICTOR_PORT={port}"]
        healthcheck = image_config["Healthcheck"]["Test"][1:]
        idle = buildah.run("run", *settings, container, "--", *healthcheck, check=False)
        seen.healthcheck_without_server = (idle.returncode, idle.stderr)

        entrypoint = [*image_config["Entrypoint"], *(image_config.get("Cmd") or [])]
        log_path = tmp_path_factory.mktemp("container") / "server.log"
        service = start_service(
            log_path,
            command=buildah.command("run", *settings, container, "--", *entrypoint),
            port=port,
            env={key: buildah.env[key] for key in ("CONTAINERS_STORAGE_CONF", "BUILDAH_ISOLATION")},
        )
        server_pid = _server_pid(service.process.pid, entrypoint)
        seen.server_status = _status(server_pid)
        for path in (card.paths.liveness, card.paths.readiness, card.paths.predict):
            seen.responses[path] = get(port, path)
        checked = buildah.run("run", *settings, container, "--", *healthcheck, check=False)
        seen.healthcheck = (checked.returncode, checked.stderr)

        started = time.perf_counter()
        os.kill(server_pid, signal.SIGTERM)
        seen.exit_code = service.wait(timeout=_EXIT_TIMEOUT_SECONDS)
        seen.seconds_to_exit = time.perf_counter() - started
        seen.log = service.log_lines()

        seen.rootfs_changes = _writes(before, _rootfs.snapshot(root, skip=WRITABLE))
        yield seen
    finally:
        if server_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGKILL)  # only if a failure above left it running
        buildah.remove_container(container)


def _writes(before: _rootfs.Listing, after: _rootfs.Listing) -> list[str]:
    """Every change between the listings, except /run's timestamps alone (see RUNTIME_TOUCHED)."""
    changes = _rootfs.compare(before, after).describe()
    if before[RUNTIME_TOUCHED][:4] == after[RUNTIME_TOUCHED][:4]:  # mode, uid, gid, size unchanged
        changes = [change for change in changes if change != f"modified {RUNTIME_TOUCHED}"]
    return changes


def test_server_runs_as_the_declared_numeric_uid_without_capabilities(observed, card):
    status = observed.server_status
    assert status["Uid"].split() == [str(card.uid)] * 4  # real, effective, saved, filesystem
    assert status["Gid"].split() == [str(card.uid)] * 4
    assert int(status["CapEff"], 16) == 0
    assert int(status["CapPrm"], 16) == 0


def test_answers_the_service_contract(observed, card):
    assert observed.responses[card.paths.liveness] == (200, b'{"status":"ok"}')
    status, _ = observed.responses[card.paths.readiness]
    assert status == 200
    status, body = observed.responses[card.paths.predict]
    assert (status, json.loads(body)) == (200, {"score": 0.75})


def test_healthcheck_command_passes_against_the_server_and_fails_without_it(observed):
    code, stderr = observed.healthcheck
    assert code == 0, stderr
    code, stderr = observed.healthcheck_without_server
    assert code != 0
    assert "healthcheck:" in stderr


def test_everything_the_service_imports_has_build_time_bytecode(observed):
    report = observed.bytecode
    assert len(report) > 100, f"the probe saw only {len(report)} modules"
    unusable = {name: entry for name, entry in report.items() if entry["state"] in {"missing", "stale"}}
    assert not unusable, f"compiled at every start: {sorted(unusable)[:20]}"
    ours = {
        name: entry["state"]
        for name, entry in report.items()
        if entry["origin"].startswith(("/opt/venv/", "/app/"))
    }
    assert "api.server" in ours
    assert set(ours.values()) == {"unchecked-hash"}, ours


def test_writes_nothing_to_the_root_filesystem_while_serving(observed):
    assert not observed.rootfs_changes, observed.rootfs_changes


def test_sigterm_ends_it_cleanly_within_the_drain_budget(observed, card):
    assert observed.exit_code == 0, "\n".join(observed.log[-20:])
    assert observed.seconds_to_exit is not None
    assert observed.seconds_to_exit < card.server.drain_seconds
    assert not [line for line in observed.log if "Traceback" in line], "\n".join(observed.log)
