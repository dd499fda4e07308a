"""What a gate reports: the rules it evaluated, the findings that failed, and the inputs it could not read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing that failed its evaluation's rule; `path` is relative to the checked root, if it has one."""

    message: str
    path: str | None = None
    line: int | None = None


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """One rule evaluated by a gate: how many things it judged and which of them failed."""

    rule: str
    title: str
    checked: int
    findings: tuple[Finding, ...] = ()


@dataclass(kw_only=True)
class GateResult:
    """The outcome of one gate. `errors` are inputs the gate could not read: each one fails the gate."""

    name: str
    checked: int = 0
    unit: str = "checks"
    evaluations: list[Evaluation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def findings(self) -> list[tuple[Evaluation, Finding]]:
        return [(evaluation, finding) for evaluation in self.evaluations for finding in evaluation.findings]

    @property
    def failures(self) -> int:
        return len(self.findings) + len(self.errors)

    @property
    def passed(self) -> bool:
        return self.failures == 0 and self.checked > 0


Verdict = tuple[str, str, bool]  # rule, what was judged, failed


def evaluations(titles: dict[str, str], verdicts: list[Verdict]) -> list[Evaluation]:
    """One evaluation per rule of `titles`, of its verdicts: a finding for each that failed."""
    return [
        Evaluation(
            rule=rule,
            title=title,
            checked=sum(judged == rule for judged, _, _ in verdicts),
            findings=tuple(Finding(message=what) for judged, what, bad in verdicts if judged == rule and bad),
        )
        for rule, title in titles.items()
    ]


class GateError(RuntimeError):
    """An input a gate could not read or a tool that did not run: the message says which."""
