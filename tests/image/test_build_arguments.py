"""The build refuses, with a message naming the problem, when an argument only `make image` knows is wrong.

A plain `docker build .` has no service card to read: it must stop before downloading anything rather than
produce an image with an empty USER or port. The Makefile, in turn, refuses to pass an empty argument.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.service import REPO_ROOT

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
        pytest.param((), "missing build arguments: UV_VERSION APP_UID APP_PORT", id="none"),
        pytest.param(
            ("UV_VERSION=never-installed", "APP_UID=0", "APP_PORT=8000"),
            "APP_UID=0: the service must not run as root",
            id="root",
        ),
    ],
)
def test_dockerfile_refuses_without_the_cards_values(buildah, local_base, build_args, message):
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
