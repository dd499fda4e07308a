"""The jsii runtime's Node.js banner is silenced by naming the running Node.js major version."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from manifests_py._node_runtime import silence_jsii_node_banners


@pytest.fixture(scope="module")
def node_major():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    return (
        subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
        .stdout.strip()[1:]
        .split(".")[0]
    )


def test_the_running_major_is_added_to_what_was_listed(node_major):
    environ = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1"}
    silence_jsii_node_banners(environ)
    assert environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"].split(",") == ["1", node_major]
    assert environ["JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"] == "1"


def test_silencing_twice_changes_nothing(node_major):
    environ = {}
    silence_jsii_node_banners(environ)
    once = dict(environ)
    silence_jsii_node_banners(environ)
    assert environ == once
    assert environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] == node_major


def test_without_node_nothing_is_claimed():
    environ = {"JSII_NODE": "/nonexistent/node"}
    silence_jsii_node_banners(environ)
    assert "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in environ
