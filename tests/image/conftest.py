"""The image built for real, as `docker build -t predictor .` would, with buildah on a locally assembled base.

Everything lives in a buildah store under build/image-test (the base is cached there between runs);
measurements (times, sizes) are written to build/image-test/measurements.json for the record.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from api.service_card import load_service_card
from tests.image import _make
from tests.image._buildah import Buildah
from tests.image._local_base import LocalBase, ensure_local_base
from tools.common import REPO_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from api.service_card import ServiceCard

STATE_DIR = REPO_ROOT / "build" / "image-test"
TEST_REPOSITORY = "localhost/predictor-image-test"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
_BUILD_TIMEOUT_SECONDS = 900


@pytest.fixture(scope="session")
def card() -> ServiceCard:
    return load_service_card()


@pytest.fixture(scope="session")
def measurements() -> Iterator[dict[str, object]]:
    recorded: dict[str, object] = {}
    yield recorded
    if recorded:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        (STATE_DIR / "measurements.json").write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def buildah() -> Buildah:
    if os.geteuid() != 0:
        pytest.skip("building and running the image needs root (buildah chroot isolation, debootstrap)")
    missing = [tool for tool in ("buildah", "debootstrap", "make") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs them)")
    store = Buildah.in_store(STATE_DIR / "containers")
    _sweep_leftovers(store)
    return store


def _sweep_leftovers(buildah: Buildah) -> None:
    """Containers and images of earlier runs that were killed before their clean-up (named by pid)."""
    for name in buildah.container_names():
        if (pid := _owner(name)) is not None and not _alive(pid):
            buildah.remove_container(name)
    for reference in buildah.images_named(TEST_REPOSITORY):
        if (pid := _owner(reference)) is not None and not _alive(pid):
            buildah.remove_image(reference)


def _owner(name: str) -> int | None:
    prefix, _, pid = name.rpartition("-")
    return (
        int(pid)
        if prefix.startswith(("predictor-image-test", "predictor-test-base", f"{TEST_REPOSITORY}:run"))
        and pid.isdigit()
        else None
    )


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@pytest.fixture(scope="session")
def local_base(buildah: Buildah, measurements: dict[str, object]) -> LocalBase:
    base = ensure_local_base(buildah, os.environ.get("DEBOOTSTRAP_MIRROR", DEFAULT_MIRROR))
    measurements["base"] = base.reference
    measurements["base_assembled_seconds"] = (
        None if base.assembled_in_seconds is None else round(base.assembled_in_seconds, 1)
    )
    return base


@dataclass(frozen=True)
class BuiltImage:
    reference: str
    # What api/ held when the build started: in a shared checkout, others may add files meanwhile, so the
    # tests compare the image with this rather than with the tree now.
    api_files: frozenset[str]


def _api_files() -> frozenset[str]:
    return frozenset(
        path.relative_to(REPO_ROOT / "api").as_posix()
        for path in (REPO_ROOT / "api").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


@pytest.fixture(scope="session")
def image(buildah: Buildah, local_base: LocalBase, measurements: dict[str, object]) -> Iterator[BuiltImage]:
    """`docker build -t predictor .` as buildah runs it: no build argument but the base, so every other value
    is the Dockerfile's default. The buildah options (isolation, storage, the host's CA bundle for RUN
    steps) are `make image`'s own; what `make image` adds, the arguments and labels, is checked without a
    second build (test_build_arguments.py). The image is removed after the session.
    """
    reference = f"{TEST_REPOSITORY}:run-{os.getpid()}"
    command = [
        *shlex.split(_make.value("image_buildah")),
        f"--build-arg=BASE_IMAGE={local_base.repository}",
        f"--build-arg=BASE_TAG={local_base.tag}",
        f"--tag={reference}",
        ".",
    ]
    log = STATE_DIR / "image-build.log"
    api_files = _api_files()
    started = time.perf_counter()
    with log.open("w") as output:
        output.write(shlex.join(command) + "\n")
        output.flush()
        result = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=buildah.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=_BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    measurements["build_command"] = shlex.join(command)
    measurements["build_seconds"] = round(time.perf_counter() - started, 1)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])
        pytest.fail(f"buildah bud exited {result.returncode} (log: {log}):\n{tail}")
    try:
        yield BuiltImage(reference, api_files)
    finally:
        buildah.remove_image(reference)


@pytest.fixture(scope="session")
def image_config(buildah: Buildah, image: BuiltImage) -> dict[str, object]:
    return buildah.image_config(image.reference)
