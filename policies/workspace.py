"""Where things are: the policies (this repository), the *root* they judge (shaped like the repository:
this checkout for `make policy`, copies for the mutation tests), and the context every gate is handed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.tools import Tools
from tools.common import REPO_ROOT

FEATURES_DIR = REPO_ROOT / "policies" / "terraform"
CHECKOV_CHECKS_DIR = REPO_ROOT / "policies" / "checkov"


class Root:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.infra, self.dist, self.github = path / "infra", path / "dist", path / ".github"
        self.dockerfile, self.service_card = path / "Dockerfile", path / "api" / "service.json"

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

    @property
    def work(self) -> Path:
        """Scratch space of this run (staged copies, compact plans), beside the reports and not inside them:
        CI uploads every SARIF file under the reports folder, and a scratch copy would be uploaded twice."""
        return self.reports.with_name(f"{self.reports.name}.work")
