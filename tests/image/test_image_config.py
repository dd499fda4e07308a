"""What the built image declares: user, entrypoint, HEALTHCHECK, port, environment and OCI labels."""

from __future__ import annotations

import re
import subprocess
import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.service import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.system]

SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "/usr/bin/env"}
# What the build stage needs to reach PyPI through a TLS-inspecting proxy; none of it may ship.
BUILD_ONLY_VARIABLES = (
    "SSL_CERT_FILE",
    "PIP_CERT",
    "UV_SYSTEM_CERTS",
    "UV_NATIVE_TLS",
    "UV_PROJECT_ENVIRONMENT",
)
LABEL = "org.opencontainers.image."


def _environment(config):
    return dict(item.split("=", 1) for item in config["Env"])


def test_runs_as_the_cards_numeric_non_root_uid_and_gid(image_config, card):
    assert image_config["User"] == f"{card.uid}:{card.uid}"
    assert card.uid >= 10000  # what Pod Security `restricted` and the manifests' runAsUser expect


def test_entrypoint_is_exec_form_so_sigterm_reaches_the_server(image_config):
    entrypoint = image_config["Entrypoint"]
    assert isinstance(entrypoint, list)
    assert entrypoint[0] not in SHELLS, f"a shell as PID 1 would swallow SIGTERM: {entrypoint}"
    assert entrypoint[-2:] == ["-m", "api"]
    assert not image_config.get("Cmd")
    assert image_config.get("StopSignal", "SIGTERM") == "SIGTERM"


def test_healthcheck_is_exec_form_and_needs_no_curl(image_config):
    healthcheck = image_config["Healthcheck"]
    assert healthcheck["Test"][0] == "CMD", f"not exec form: {healthcheck['Test']}"
    assert healthcheck["Test"][1:] == ["python", "-m", "api.healthcheck"]
    assert healthcheck["Timeout"] > 0
    assert healthcheck["Retries"] > 0


def test_exposes_the_cards_port_and_listens_on_all_interfaces(image_config, card):
    assert set(image_config["ExposedPorts"]) == {f"{card.port}/tcp"}
    environment = _environment(image_config)
    assert environment["PREDICTOR_HOST"] == "0.0.0.0"  # noqa: S104 - in a pod, the pod IP must answer
    assert "PREDICTOR_PORT" not in environment  # the service reads its port from the card it ships


def test_environment_keeps_the_read_only_root_and_nothing_from_the_build(image_config):
    environment = _environment(image_config)
    assert environment["PYTHONDONTWRITEBYTECODE"] == "1"
    assert environment["PYTHONUNBUFFERED"] == "1"
    leaked = [name for name in BUILD_ONLY_VARIABLES if name in environment]
    assert not leaked, f"build-stage settings in the image: {leaked}"


def _is_ancestor(older: str, newer: str) -> bool:
    command = ["git", "merge-base", "--is-ancestor", older, newer]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, check=False).returncode == 0


def test_oci_labels_come_from_their_sources(image_config, image, local_base):
    labels = image_config["Labels"]
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    assert labels[f"{LABEL}version"] == version
    assert labels[f"{LABEL}base.name"] == local_base.reference

    # The checkout's HEAD when `make image` ran.
    revision = labels[f"{LABEL}revision"]
    assert re.fullmatch(r"[0-9a-f]{40}", revision), revision
    assert _is_ancestor(image.head_before, revision)
    assert _is_ancestor(revision, image.head_after)

    created = datetime.strptime(labels[f"{LABEL}created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert datetime.now(UTC) - timedelta(hours=1) < created <= datetime.now(UTC)

    source = labels[f"{LABEL}source"]
    assert re.fullmatch(r"(https://|file:///)\S+", source), source
    assert "@" not in source, f"credentials or an scp-style remote in the source label: {source}"
