"""Fixtures for the manifests tests: the committed dist/, fresh in-memory renderings, CRD schemas.

cdk8s starts a Node.js runtime when first imported; the jsii banner variables are settled first so
test output stays clean.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from manifests_py._node_runtime import silence_jsii_node_banners

silence_jsii_node_banners(os.environ)

from manifests_py.config import load_environment, project_version  # noqa: E402 - after the banner fix
from manifests_py.renderings import RENDERINGS, Layer  # noqa: E402
from manifests_py.service_card import REPO_ROOT, load_service_card  # noqa: E402
from manifests_py.synth import render  # noqa: E402

DIST = REPO_ROOT / "dist"
ENVIRONMENTS = REPO_ROOT / "manifests_py" / "environments"
FIXTURES = Path(__file__).parent / "fixtures"


def load_folder(folder: Path) -> list[dict]:
    """Every object in a folder's YAML files, in the order `kubectl apply -f folder/` would send them."""
    documents = []
    for path in sorted(folder.glob("*.yaml")):
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    return documents


def committed_folders() -> list[str]:
    return [r.folder for r in RENDERINGS]


def service_folders() -> list[str]:
    """The folders a deploy applies (each with the service's workload), without the cluster folders."""
    return [r.folder for r in RENDERINGS if r.layer is Layer.SERVICE]


@pytest.fixture(scope="session")
def card():
    return load_service_card()


@pytest.fixture(scope="session")
def dist_objects():
    """Committed dist/: folder name -> objects."""
    return {folder: load_folder(DIST / folder) for folder in committed_folders()}


@pytest.fixture(scope="session")
def rendered(card):
    """A fresh in-memory rendering of every committed folder, with its portability warnings."""
    version = project_version()
    configs = {
        name: load_environment(name, default_tag=version) for name in {r.environment for r in RENDERINGS}
    }
    return {folder.rendering.folder: folder for folder in render(RENDERINGS, card=card, configs=configs)}


@pytest.fixture
def environments_copy(tmp_path):
    """A scratch copy of the committed environment files, for tests that break them."""
    target = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS, target)
    return target
