"""Settings that one target cannot honour are reported, never silently dropped."""

from __future__ import annotations

from dataclasses import dataclass

from manifests_py.props import Target

__all__ = ["PortabilityWarning"]


@dataclass(frozen=True, kw_only=True)
class PortabilityWarning:
    target: Target
    setting: str
    detail: str

    def __str__(self) -> str:
        return f"{self.setting} does not carry to {self.target.value}: {self.detail}"
