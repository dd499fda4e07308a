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
from tests.support import background
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


def _store() -> Buildah:
    if os.geteuid() != 0:
        pytest.skip("building and running the image needs root (buildah chroot isolation, debootstrap)")
    missing = [tool for tool in ("buildah", "debootstrap", "make") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (.ci/run installs them)")
    return Buildah.in_store(STATE_DIR / "containers")


@pytest.fixture(scope="session")
def buildah() -> Buildah:
    return _store()


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


@background.io_session_fixture
def assembled_base(_tmp: pytest.TempPathFactory) -> LocalBase:
    """The base (debootstrap the first time), the first job of the image's background lane."""
    store = _store()
    _sweep_leftovers(store)
    return ensure_local_base(store, os.environ.get("DEBOOTSTRAP_MIRROR", DEFAULT_MIRROR))


@pytest.fixture(scope="session")
def local_base(assembled_base: LocalBase, measurements: dict[str, object]) -> LocalBase:
    measurements["base"] = assembled_base.reference
    measurements["base_assembled_seconds"] = (
        None if assembled_base.assembled_in_seconds is None else round(assembled_base.assembled_in_seconds, 1)
    )
    return assembled_base


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


@background.io_session_fixture
def built_image(_tmp: pytest.TempPathFactory) -> tuple[BuiltImage, str, float]:
    """`docker build -t predictor .` as buildah runs it: no build argument but the base, so every other value
    is the Dockerfile's default. The buildah options (isolation, storage, the host's CA bundle for RUN
    steps) are `make image`'s own; what `make image` adds, the arguments and labels, is checked without a
    second build (test_build_arguments.py). Built in the background after the base (same lane), and
    removed after the session by `image`.
    """
    store = _store()
    local_base = ensure_local_base(store, os.environ.get("DEBOOTSTRAP_MIRROR", DEFAULT_MIRROR))
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
            env=store.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=_BUILD_TIMEOUT_SECONDS,
            check=False,
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])
        pytest.fail(f"buildah bud exited {result.returncode} (log: {log}):\n{tail}")
    return BuiltImage(reference, api_files), shlex.join(command), time.perf_counter() - started


@pytest.fixture(scope="session")
def image(
    buildah: Buildah,
    local_base: LocalBase,  # noqa: ARG001 -- in the closure, so the base's job is started before the build's
    built_image: tuple[BuiltImage, str, float],
    measurements: dict[str, object],
) -> Iterator[BuiltImage]:
    built, command, seconds = built_image
    measurements["build_command"] = command
    measurements["build_seconds"] = round(seconds, 1)
    try:
        yield built
    finally:
        buildah.remove_image(built.reference)


@pytest.fixture(scope="session")
def image_config(buildah: Buildah, image: BuiltImage) -> dict[str, object]:
    return buildah.image_config(image.reference)
