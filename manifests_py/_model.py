"""The pydantic base of every props model, the few constrained types they share, and the formatting of
pydantic's located errors as ``dotted.field: reason`` lines."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

__all__ = [
    "Cpu",
    "Memory",
    "Props",
    "describe_errors",
    "mebibytes",
    "millicores",
    "refuse",
    "shaped",
]


class Props(BaseModel):
    # Strict: a TOML "3" is not the integer 3. Unknown fields are refused: a misspelt one must not be
    # silently ignored.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def refuse(*, reason: str, field: str) -> PydanticCustomError:
    """An error for ``field`` of the model being validated (a rule that spans several fields)."""
    return PydanticCustomError("rule", "{reason}", {"field": field, "reason": reason})


def shaped(pattern: str, hint: str) -> AfterValidator:
    """Text that must match ``pattern``, refused as ``'value' is not <hint>``."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            msg = f"{value!r} is not {hint}"
            raise ValueError(msg)
        return value

    return AfterValidator(check)


_MEBIBYTES = {"Mi": 1, "Gi": 1024}
Cpu = Annotated[str, shaped(r"[1-9][0-9]*m|[0-9]+(?:\.[0-9]{1,3})?", "a CPU quantity such as 250m or 1")]
Memory = Annotated[str, shaped(r"[1-9][0-9]*(?:Mi|Gi)", "a memory quantity such as 256Mi or 1Gi")]


def millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else round(float(quantity) * 1000)


def mebibytes(quantity: str) -> int:
    return int(quantity[:-2]) * _MEBIBYTES[quantity[-2:]]


_REASONS = {"missing": "missing", "extra_forbidden": "unknown field"}


def _location(loc: tuple[int | str, ...], error: ErrorDetails) -> str:
    field = error.get("ctx", {}).get("field") if error["type"] == "rule" else None
    parts = [*loc, *([field] if field else [])]
    dotted = ""
    for part in parts:
        if isinstance(part, int):
            dotted += f"[{part}]"
        elif part != "[key]":
            dotted += f".{part}" if dotted else str(part)
    return dotted


def describe_errors(error: ValidationError) -> list[str]:
    """One ``dotted.field: reason`` line per error pydantic collected."""
    lines = []
    for item in error.errors(include_url=False):
        reason = _REASONS.get(item["type"], item["msg"])
        if item["type"] == "value_error":  # a validator's own ValueError: its message, without a prefix
            reason = str(item["ctx"]["error"])
        elif item["type"] not in {*_REASONS, "rule"} and not isinstance(item["input"], dict | list):
            reason += f", got {item['input']!r}"
        lines.append(f"{_location(item['loc'], item)}: {reason}")
    return lines
