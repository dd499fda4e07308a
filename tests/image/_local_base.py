"""A base image assembled from Debian packages, standing in for the registry's official slim Python.

No registry is reachable here, so the Dockerfile's pinned base can't be pulled. debootstrap builds a minimal
bookworm root holding the same interpreter line (3.11) and what the official slim image adds to Debian
(ca-certificates, netbase, tzdata), plus python3-venv: the official image ships ensurepip, which the build
stage uses to install uv. The root is trimmed as slim images are, imported into the test store, and kept
there under a tag derived from this recipe, so only the first run pays for debootstrap.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from tests.image._buildah import Buildah

REPOSITORY = "localhost/predictor-test-base"
SUITE = "bookworm"
VARIANT = "minbase"
PACKAGES = ("python3", "python3-venv", "ca-certificates", "netbase", "tzdata")
# Emptied as the official slim image has them: package lists and cache, docs, man pages, locales, devices.
TRIMMED = (
    "var/lib/apt/lists",
    "var/cache/apt",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "dev",
)
CONFIG = (
    "--env=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "--env=LANG=C.UTF-8",
    '--cmd=["python3"]',
)
_DEBOOTSTRAP_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class LocalBase:
    repository: str
    tag: str
    assembled_in_seconds: float | None  # None: reused from an earlier run

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


def recipe_key() -> str:
    recipe = {
        "suite": SUITE,
        "variant": VARIANT,
        "packages": PACKAGES,
        "trimmed": TRIMMED,
        "config": CONFIG,
        "machine": platform.machine(),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def ensure_local_base(buildah: Buildah, mirror: str) -> LocalBase:
    """The cached base for this recipe, assembled first if the store lacks it."""
    tag = recipe_key()
    reference = f"{REPOSITORY}:{tag}"
    with (buildah.state_dir / "base.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs at once assemble it once
        if buildah.image_exists(reference):
            return LocalBase(REPOSITORY, tag, None)
        started = time.perf_counter()
        _assemble(buildah, reference, mirror)
        for stale in buildah.images_named(REPOSITORY):
            if stale != reference:
                buildah.remove_image(stale)
        return LocalBase(REPOSITORY, tag, time.perf_counter() - started)


def _assemble(buildah: Buildah, reference: str, mirror: str) -> None:
    rootfs = buildah.state_dir / f"rootfs-{os.getpid()}"
    log = buildah.state_dir / "debootstrap.log"
    shutil.rmtree(rootfs, ignore_errors=True)
    try:
        with log.open("w") as output:
            result = subprocess.run(
                [
                    "debootstrap",
                    "--force-check-gpg",  # the base is only as trustworthy as the archive's signature
                    f"--variant={VARIANT}",
                    f"--include={','.join(PACKAGES)}",
                    SUITE,
                    rootfs,
                    mirror,
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=_DEBOOTSTRAP_TIMEOUT_SECONDS,
                check=False,
            )
        if result.returncode != 0:
            tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])
            msg = f"debootstrap {SUITE} from {mirror} exited {result.returncode} (log: {log}):\n{tail}"
            raise RuntimeError(msg)
        for relative in TRIMMED:
            _empty(rootfs / relative)
        _import(buildah, rootfs, reference)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def _empty(directory: Path) -> None:
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _import(buildah: Buildah, rootfs: Path, reference: str) -> None:
    container = buildah.run("from", "--name", f"predictor-test-base-{os.getpid()}", "scratch").stdout.strip()
    try:
        mountpoint = buildah.mount(container)
        subprocess.run(["cp", "-a", f"{rootfs}/.", f"{mountpoint}/"], check=True, timeout=300)
        buildah.run("umount", container)
        buildah.run("config", *CONFIG, container)
        buildah.run("commit", "--format", "docker", container, reference)
    finally:
        buildah.remove_container(container)
