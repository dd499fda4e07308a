"""What the runtime stage adds over its base: the locked runtime virtualenv and api/ only, and how much."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.image import _rootfs
from tools.common import REPO_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [pytest.mark.slow, pytest.mark.system]

VENV = "opt/venv"
APP = "app/api"
# The aim for what the runtime stage adds, uncompressed; a dependency that blows it fails here.
ADDED_BYTES_BUDGET = 60 * 1000 * 1000
UV = REPO_ROOT / ".tools" / "bin" / "uv"
_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


class Roots:
    def __init__(self, base: Path, image: Path) -> None:
        self.base = base
        self.image = image
        self.base_listing = _rootfs.snapshot(base)
        self.image_listing = _rootfs.snapshot(image)
        self.changes = _rootfs.compare(self.base_listing, self.image_listing, ctime=False)


@pytest.fixture(scope="module")
def roots(buildah, image, local_base) -> Iterator[Roots]:
    containers = []
    try:
        mounts = []
        for role, reference in (("base", local_base.reference), ("image", image.reference)):
            containers.append(buildah.new_container(reference, f"predictor-image-test-{role}-{os.getpid()}"))
            mounts.append(buildah.mount(containers[-1]))
        yield Roots(*mounts)
    finally:
        for container in containers:
            buildah.remove_container(container)


def _site_packages(roots: Roots) -> str:
    (site,) = [
        path for path in roots.changes.added if re.fullmatch(rf"{VENV}/lib/python3\.\d+/site-packages", path)
    ]
    return site


def test_adds_only_the_virtualenv_and_the_service(roots):
    outside = [path for path in roots.changes.added if not path.startswith((f"{VENV}", "app"))]
    assert not outside, f"the runtime stage added files outside {VENV} and /app: {outside[:20]}"
    assert not roots.changes.removed
    # Creating /opt/venv and /app touches their parent directories; nothing else may change.
    assert set(roots.changes.modified) <= {"opt"}, roots.changes.modified


def test_what_it_adds_is_roots_and_readable_but_not_writable_by_the_service(roots):
    for path in roots.changes.added:
        entry = roots.image_listing[path]
        assert (entry.uid, entry.gid) == (0, 0), f"{path} is owned by {entry.uid}:{entry.gid}"
        if stat.S_ISLNK(entry.mode):
            continue  # a symlink's own mode means nothing; its target is checked where it lives
        assert not entry.mode & (stat.S_IWGRP | stat.S_IWOTH), f"{path} is writable by others"
        assert entry.mode & stat.S_IROTH, f"{path} is not readable by the service's uid"


def test_carries_api_with_its_model_and_service_card(roots, image):
    shipped = {path.removeprefix(f"{APP}/") for path in roots.changes.added if path.startswith(f"{APP}/")}
    source = image.api_files
    assert source <= shipped, f"missing from the image: {sorted(source - shipped)}"
    assert {"service.json", "models/churn-logreg.json"} <= shipped
    assert not [
        path for path in roots.changes.added if path.startswith(("app/tests", "app/infra", "app/.git"))
    ]


def test_virtualenv_holds_exactly_the_locked_runtime_set(roots):
    if not UV.exists():
        pytest.skip(f"{UV} is missing: run `make bootstrap`")
    exported = subprocess.run(
        [str(UV), "export", "--frozen", "--no-default-groups", "--no-hashes", "--no-header",
         "--no-annotate", "--no-emit-project"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    locked = set()
    for line in exported.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"sys_platform": "linux"}):
            (version,) = [spec.version for spec in requirement.specifier]
            locked.add((canonicalize_name(requirement.name), version))

    site = _site_packages(roots)
    installed = set()
    for path in roots.changes.added:
        parent, _, name = path.rpartition("/")
        if parent == site and (match := _DIST_INFO.match(name)):
            installed.add((canonicalize_name(match["name"]), match["version"]))
    assert installed == locked, (
        f"not locked: {sorted(installed - locked)}; locked but missing: {sorted(locked - installed)}"
    )


def test_runtime_stage_stays_small(roots, compressed_layers, measurements):
    added_bytes = _rootfs.regular_file_bytes(roots.image_listing, roots.changes.added)
    site = _site_packages(roots)
    by_top: Counter[str] = Counter()
    for path in roots.changes.added:
        top = (
            path.removeprefix(f"{site}/").split("/", 1)[0]
            if path.startswith(f"{site}/")
            else path.split("/")[0]
        )
        by_top[top] += _rootfs.regular_file_bytes(roots.image_listing, [path])
    bytecode = sum(roots.image_listing[path].size for path in roots.changes.added if path.endswith(".pyc"))
    shared_objects = sum(
        roots.image_listing[path].size for path in roots.changes.added if path.endswith(".so")
    )
    measurements["base_file_bytes"] = _rootfs.regular_file_bytes(roots.base_listing)
    measurements["image_file_bytes"] = _rootfs.regular_file_bytes(roots.image_listing)
    measurements["runtime_stage_added_file_bytes"] = added_bytes
    measurements["runtime_stage_added_bytecode_bytes"] = bytecode
    measurements["runtime_stage_added_shared_object_bytes"] = shared_objects
    measurements["runtime_stage_largest"] = dict(by_top.most_common(8))
    measurements |= compressed_layers
    assert added_bytes < ADDED_BYTES_BUDGET, (
        f"the runtime stage adds {added_bytes} bytes: {by_top.most_common(5)}"
    )


@pytest.fixture(scope="module")
def compressed_layers(buildah, image, local_base, tmp_path_factory) -> dict[str, int]:
    """Layer sizes as a registry stores them (gzip), from `buildah push` to a directory."""
    scratch = tmp_path_factory.mktemp("layers")
    sizes = {}
    for role, reference in (("base", local_base.reference), ("image", image.reference)):
        target = scratch / role
        buildah.run("push", "--quiet", reference, f"dir:{target}")
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        sizes[role] = [layer["size"] for layer in manifest["layers"]]
    assert sizes["image"][: len(sizes["base"])] == sizes["base"], "the image does not start with its base"
    return {
        "base_compressed_bytes": sum(sizes["base"]),
        "image_compressed_bytes": sum(sizes["image"]),
        "runtime_stage_compressed_bytes": sum(sizes["image"][len(sizes["base"]) :]),
    }
