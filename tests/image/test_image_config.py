"""What the built image declares: user, entrypoint, HEALTHCHECK, port, environment and OCI labels."""

from __future__ import annotations

import tomllib

import pytest

from tools.common import REPO_ROOT

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


def test_labels_of_a_build_with_no_argument_are_the_defaults(image_config, local_base):
    """Only `make image` knows the revision, date and source (test_build_arguments.py checks it passes them);
    a plain build says nothing rather than something invented."""
    labels = image_config["Labels"]
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    assert labels[f"{LABEL}version"] == version
    assert labels[f"{LABEL}base.name"] == local_base.reference
    assert [labels[f"{LABEL}{name}"] for name in ("revision", "created", "source")] == ["", "", ""]
