"""What every gate is handed: the judged root, where reports go, the pinned tools, and the plan once made."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.tools import Tools
from policies.workspace import Root


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
