"""Where things are: the policies (this repository), the tree they judge (this repository or a copy), and
the context every gate is handed.

The gates judge a *root* shaped like the repository: infra/, dist/, Dockerfile, .github/ and
api/service.json. `make policy` judges the checkout itself; the mutation tests hand it copies.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.tools import Tools
from tools.common import REPO_ROOT

POLICIES_DIR = REPO_ROOT / "policies"
FEATURES_DIR = POLICIES_DIR / "terraform"
CHECKOV_CHECKS_DIR = POLICIES_DIR / "checkov"

# Never copied into a scan: Terraform's working data, caches and bytecode.
_IGNORED = shutil.ignore_patterns(
    ".terraform", "*.tfstate", "*.tfstate.*", "__pycache__", ".mypy_cache", "*.pyc"
)


@dataclass(frozen=True)
class Root:
    path: Path

    @property
    def infra(self) -> Path:
        return self.path / "infra"

    @property
    def dist(self) -> Path:
        return self.path / "dist"

    @property
    def dockerfile(self) -> Path:
        return self.path / "Dockerfile"

    @property
    def github(self) -> Path:
        return self.path / ".github"

    @property
    def service_card(self) -> Path:
        return self.path / "api" / "service.json"

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.path.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


@dataclass
class Context:
    root: Root
    reports: Path
    tools: Tools
    given_plan: Path | None = None
    # Set by the plan gate for the gates that judge the plan.
    plan: dict[str, Any] | None = None
    deferred_trust: list[str] = field(default_factory=list)

    @property
    def work(self) -> Path:
        """Scratch space of this run (staged copies, compact plans), beside the reports and not inside them:
        CI uploads every SARIF file under the reports folder, and a scratch copy would be uploaded twice."""
        return self.reports.with_name(f"{self.reports.name}.work")


def stage(root: Root, target: Path) -> Path:
    """Copy what checkov scans into `target`, laid out as in the repository, so reported paths are the
    repository's own (infra/main.tf, dist/prod/...) and nothing else (virtualenvs, build output) is read."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for directory in (root.infra, root.dist, root.github):
        if directory.is_dir():
            shutil.copytree(directory, target / directory.name, ignore=_IGNORED)
    if root.dockerfile.is_file():
        shutil.copy2(root.dockerfile, target / root.dockerfile.name)
    return target
