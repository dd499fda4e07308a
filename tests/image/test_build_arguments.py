"""The build arguments: what `make image` passes, and what the build refuses.

A plain `docker build .` uses the Dockerfile's defaults (test_dockerfile_defaults.py); a value emptied or
made unusable on the command line must stop the build before it downloads anything rather than produce
an image with an empty USER or port. The Makefile refuses to pass an empty argument, and passes each one
from its source, the labels' revision, date and source included.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.image import _make
from tests.image.test_dockerfile_defaults import sources
from tools.common import REPO_ROOT

_TIMEOUT_SECONDS = 300


def _bud(buildah, local_base, *build_args: str) -> subprocess.CompletedProcess[str]:
    base = [f"BASE_IMAGE={local_base.repository}", f"BASE_TAG={local_base.tag}"]
    return buildah.run(
        "bud", "--isolation", "chroot", "--layers=false", "--force-rm",
        *(f"--build-arg={arg}" for arg in (*base, *build_args)),
        "--file", str(REPO_ROOT / "Dockerfile"), str(REPO_ROOT),
        check=False, timeout=_TIMEOUT_SECONDS,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.system
@pytest.mark.parametrize(
    ("build_args", "message"),
    [
        pytest.param(
            ("UV_VERSION=", "APP_UID=", "APP_PORT="),
            "empty build arguments: UV_VERSION APP_UID APP_PORT",
            id="empty",
        ),
        pytest.param(
            ("UV_VERSION=never-installed", "APP_UID=0", "APP_PORT=8000"),
            "APP_UID=0: the service must not run as root",
            id="root",
        ),
    ],
)
def test_dockerfile_refuses_an_unusable_value(buildah, local_base, build_args, message):
    result = _bud(buildah, local_base, *build_args)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert message in output, output[-2000:]
    assert "Fetched" not in output, "apt ran before the arguments were checked"
    assert "Collecting uv" not in output, "pip ran before the arguments were checked"


@pytest.mark.parametrize("variable", ["IMAGE_REVISION", "IMAGE_TAG"])
def test_make_image_refuses_an_empty_argument_before_building(variable):
    result = subprocess.run(
        ["make", "--no-print-directory", "image", "IMAGE_BUILDER=buildah", f"{variable}="],
        cwd=REPO_ROOT,
        env={key: value for key, value in os.environ.items() if not key.startswith("MAKE")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "is empty" in result.stderr
    assert "buildah bud" not in result.stdout


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _is_ancestor(older: str, newer: str) -> bool:
    command = ["git", "merge-base", "--is-ancestor", older, newer]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, check=False).returncode == 0


def test_make_image_passes_every_argument_and_label_from_its_source():
    head_before = _head()
    command = _make.dry_run_command("image", "buildah", "IMAGE_BUILDER=buildah", "IMAGE_TAG=dry-run")
    head_after = _head()
    passed = dict(
        command[index + 1].split("=", 1) for index, word in enumerate(command) if word == "--build-arg"
    )

    assert {name: passed[name] for name in sources()} == sources()
    # In a checkout where others commit meanwhile, the revision is HEAD at some point during the run.
    assert re.fullmatch(r"[0-9a-f]{40}", passed["REVISION"]), passed["REVISION"]
    assert _is_ancestor(head_before, passed["REVISION"])
    assert _is_ancestor(passed["REVISION"], head_after)
    created = datetime.strptime(passed["CREATED"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert datetime.now(UTC) - timedelta(minutes=5) < created <= datetime.now(UTC)
    assert re.fullmatch(r"(https://|file:///)\S+", passed["SOURCE"]), passed["SOURCE"]
    assert "@" not in passed["SOURCE"], (
        f"credentials or an scp-style remote in the source: {passed['SOURCE']}"
    )
    assert "BASE_IMAGE" not in passed, "an empty BASE_IMAGE must leave the Dockerfile's pinned base"
