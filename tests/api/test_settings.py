"""Typed settings: production defaults from the service card, every bad value named by its variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from api.settings import BUNDLED_MODEL_PATH, SettingsError, load_settings
from tools.common import REPO_ROOT


def test_defaults_are_production_values_from_the_card(card):
    settings = load_settings({}, card=card)
    assert settings.host == "127.0.0.1"
    assert settings.port == card.port
    assert settings.drain_seconds == card.server.drain_seconds
    assert settings.keep_alive_seconds == card.server.keep_alive_timeout_seconds
    assert settings.keep_alive_seconds > card.load_balancer.idle_timeout_seconds
    assert settings.model_path == str(BUNDLED_MODEL_PATH)
    assert settings.log_requests
    assert settings.metrics_enabled


def test_values_are_parsed_from_strings(card):
    environ = {"PREDICTOR_PORT": "9001", "PREDICTOR_LOG_REQUESTS": "false", "PREDICTOR_DRAIN_SECONDS": "2.5"}
    settings = load_settings(environ, card=card)
    assert (settings.port, settings.log_requests, settings.drain_seconds) == (9001, False, 2.5)


@pytest.mark.parametrize(
    ("environ", "variable", "words"),
    [
        ({"PREDICTOR_PORT": "eighty"}, "PREDICTOR_PORT", "int"),
        ({"PREDICTOR_PORT": "70000"}, "PREDICTOR_PORT", "<= 65535"),
        ({"PREDICTOR_MAX_BATCH_SIZE": "0"}, "PREDICTOR_MAX_BATCH_SIZE", ">= 1"),
        ({"PREDICTOR_MAX_BODY_BYTES": "12"}, "PREDICTOR_MAX_BODY_BYTES", ">= 1024"),
        ({"PREDICTOR_DRAIN_SECONDS": "-1"}, "PREDICTOR_DRAIN_SECONDS", ">= 0"),
        ({"PREDICTOR_LOG_REQUESTS": "maybe"}, "PREDICTOR_LOG_REQUESTS", "bool"),
        ({"PREDICTOR_KEEP_ALIVE_SECONDS": "60"}, "PREDICTOR_KEEP_ALIVE_SECONDS", "idle timeout"),
        ({"PREDICTOR_MODEL_PATH": "/nonexistent/model.json"}, "PREDICTOR_MODEL_PATH", "no such file"),
        ({"PREDICTOR_MAX_BATCH": "10"}, "PREDICTOR_MAX_BATCH", "not a known setting"),
    ],
)
def test_bad_values_name_the_variable(card, environ, variable, words):
    with pytest.raises(SettingsError) as raised:
        load_settings(environ, card=card)
    message = str(raised.value)
    assert message.startswith(variable)
    assert words in message


def test_bad_setting_stops_start_up_with_exit_2_and_the_variable_named():
    result = subprocess.run(
        [sys.executable, "-m", "api"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PREDICTOR_PORT": "nope"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "configuration error: PREDICTOR_PORT='nope'" in result.stderr


def test_no_api_key_file_by_default(card):
    assert load_settings({}, card=card).api_keys_file is None


def test_a_usable_api_key_file_is_accepted(card, tmp_path):
    path = tmp_path / "keys"
    path.write_text("k" * 32 + "\n", encoding="utf-8")
    assert load_settings({"PREDICTOR_API_KEYS_FILE": str(path)}, card=card).api_keys_file == str(path)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read the key file: No such file or directory"),
        ("directory", "cannot read the key file: Is a directory"),
        ("", "no key in the key file"),
        ("short-key\n", "line 1: a key of 9 characters"),
    ],
)
def test_an_unusable_api_key_file_stops_start_up_naming_the_variable(card, tmp_path, content, words):
    path = tmp_path / "keys"
    if content == "directory":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_settings({"PREDICTOR_API_KEYS_FILE": str(path)}, card=card)
    assert str(raised.value).startswith(f"PREDICTOR_API_KEYS_FILE={str(path)!r}: {words}")


def test_an_empty_api_key_file_variable_is_refused_not_taken_as_unset(card):
    with pytest.raises(SettingsError, match=r"^PREDICTOR_API_KEYS_FILE='': .*length >= 1"):
        load_settings({"PREDICTOR_API_KEYS_FILE": ""}, card=card)


def test_a_missing_api_key_file_stops_start_up_with_exit_2(tmp_path):
    missing = tmp_path / "keys"
    result = subprocess.run(
        [sys.executable, "-m", "api"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PREDICTOR_API_KEYS_FILE": str(missing)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert (
        f"configuration error: PREDICTOR_API_KEYS_FILE='{missing}': cannot read the key file" in result.stderr
    )
