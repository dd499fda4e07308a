"""The Dockerfile's build-argument defaults are the real values, so a plain `docker build .` is the service.

Each default is a copy of a fact that has one source: the uid and port in the service card, uv in the
Makefile's pin, the version in pyproject.toml. These tests read both sides and fail when a copy drifts;
the broken copies prove the comparison reads the Dockerfile it is given. No image is built.
"""

from __future__ import annotations

import shlex
import tomllib

import pytest

from api.service_card import load_service_card
from tests.image import _make
from tools.common import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


def defaults(dockerfile: str) -> dict[str, list[str]]:
    """Every `ARG NAME=VALUE` default, by name: a stage that re-declares one with a value overrides it."""
    found: dict[str, list[str]] = {}
    for line in dockerfile.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction.upper() != "ARG":
            continue
        for word in shlex.split(rest, comments=True):
            name, equals, default = word.partition("=")
            if equals:
                found.setdefault(name, []).append(default)
    return found


def sources() -> dict[str, str]:
    """What each default must be, read from its one source."""
    card = load_service_card()
    with (REPO_ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    return {
        "APP_UID": str(card.uid),
        "APP_PORT": str(card.port),
        "UV_VERSION": _make.value("UV_VERSION"),
        "VERSION": version,
    }


def drift(dockerfile: str, expected: dict[str, str]) -> list[str]:
    declared = defaults(dockerfile)
    problems = []
    for name, value in expected.items():
        if name not in declared:
            problems.append(f"{name}: no default in the Dockerfile (its source says {value!r})")
        problems.extend(
            f"{name}: the Dockerfile's default is {default!r}, its source says {value!r}"
            for default in declared.get(name, [])
            if default != value
        )
    return problems


@pytest.fixture(scope="module")
def expected() -> dict[str, str]:
    values = sources()
    assert all(values.values()), f"a source gave an empty value: {values}"
    return values


def test_every_default_is_the_value_of_its_source(expected):
    assert drift(DOCKERFILE.read_text(encoding="utf-8"), expected) == []


@pytest.mark.parametrize("name", ["APP_UID", "APP_PORT", "UV_VERSION", "VERSION"])
def test_a_drifted_default_is_named(expected, name):
    ours = DOCKERFILE.read_text(encoding="utf-8")
    declaration = f"ARG {name}={expected[name]}\n"
    assert declaration in ours
    changed = ours.replace(declaration, f"ARG {name}={expected[name]}9\n")
    assert drift(changed, expected) == [
        f"{name}: the Dockerfile's default is {expected[name] + '9'!r}, its source says {expected[name]!r}"
    ]
    removed = ours.replace(declaration, f"ARG {name}\n")
    assert drift(removed, expected) == [
        f"{name}: no default in the Dockerfile (its source says {expected[name]!r})"
    ]


def test_a_stage_that_overrides_a_default_is_caught(expected):
    ours = DOCKERFILE.read_text(encoding="utf-8")
    overridden = ours.replace("ARG APP_UID\n", "ARG APP_UID=0\n", 1)
    assert overridden != ours
    assert drift(overridden, expected) == [
        f"APP_UID: the Dockerfile's default is '0', its source says {expected['APP_UID']!r}"
    ]
