"""Read a parsed TOML document field by field, recording every problem under its dotted field name.

Each accessor returns a usable placeholder when the field is wrong, so one pass reports every bad field
at once; the caller raises if ``problems`` is not empty before using any value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["Fields"]


def _describe(value: object) -> str:
    kinds = {bool: "boolean", int: "integer", float: "float", str: "string", dict: "table", list: "array"}
    return f"{kinds.get(type(value), type(value).__name__)} {value!r}"


class Fields:
    def __init__(self, data: Mapping[str, Any], *, path: str, problems: list[str]) -> None:
        self._data = data
        self._path = path
        self._problems = problems
        self._seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def problem(self, key: str, message: str) -> None:
        self._problems.append(f"{self.name(key)}: {message}")

    def report(self, message: str) -> None:
        """Record a message that already names its field."""
        self._problems.append(message)

    def has(self, key: str) -> bool:
        return key in self._data

    def _take(self, key: str, *, required: bool) -> object:
        self._seen.add(key)
        if key not in self._data:
            if required:
                self.problem(key, "missing")
            return None
        return self._data[key]

    def table(self, key: str, *, required: bool = True) -> Fields:
        value = self._take(key, required=required)
        if value is not None and not isinstance(value, dict):
            self.problem(key, f"expected a table, got {_describe(value)}")
            value = None
        return Fields(value if isinstance(value, dict) else {}, path=self.name(key), problems=self._problems)

    def field_names(self) -> list[str]:
        return sorted(self._data)

    def text(
        self, key: str, *, required: bool = True, pattern: re.Pattern[str] | None = None, hint: str = ""
    ) -> str:
        value = self._take(key, required=required)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.problem(key, f"expected a string, got {_describe(value)}")
            return ""
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(key, f"{value!r} is not {hint or 'valid'}")
            return ""
        return value

    def optional_text(
        self, key: str, *, pattern: re.Pattern[str] | None = None, hint: str = ""
    ) -> str | None:
        if not self.has(key):
            self._seen.add(key)
            return None
        return self.text(key, pattern=pattern, hint=hint)

    def text_list(
        self,
        key: str,
        *,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
        choices: tuple[str, ...] = (),
    ) -> tuple[str, ...] | None:
        """A non-empty array of distinct strings; None when absent and not required (or wrong)."""
        value = self._take(key, required=required)
        if value is None:
            return None
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            self.problem(key, f"expected a non-empty array of strings, got {_describe(value)}")
            return None
        bad = [
            item
            for item in value
            if (pattern and not pattern.fullmatch(item)) or (choices and item not in choices)
        ]
        if bad:
            expected = f"one of {', '.join(choices)}" if choices else (hint or "valid")
            self.problem(key, f"{', '.join(map(repr, bad))}: not {expected}")
            return None
        if len(set(value)) != len(value):
            self.problem(key, "lists a value twice")
            return None
        return tuple(value)

    def table_list(self, key: str) -> list[Fields] | None:
        """An array of tables (``[[key]]``); None when absent."""
        value = self._take(key, required=False)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem(key, f"expected an array of tables ([[{self.name(key)}]]), got {_describe(value)}")
            return None
        return [
            Fields(item, path=f"{self.name(key)}[{index}]", problems=self._problems)
            for index, item in enumerate(value)
        ]

    def integer(self, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._take(key, required=True)
        return self._check_integer(key, value, minimum=minimum, maximum=maximum)

    def optional_integer(
        self, key: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        if not self.has(key):
            self._seen.add(key)
            return None
        return self.integer(key, minimum=minimum, maximum=maximum)

    def _check_integer(self, key: str, value: object, *, minimum: int | None, maximum: int | None) -> int:
        if value is None:
            return 0
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(key, f"expected an integer, got {_describe(value)}")
            return 0
        if minimum is not None and value < minimum:
            self.problem(key, f"{value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            self.problem(key, f"{value} is above the maximum {maximum}")
        return value

    def optional_boolean(self, key: str) -> bool | None:
        value = self._take(key, required=False)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {_describe(value)}")
            return None
        return value

    def close(self) -> None:
        """Report keys nobody asked for: a misspelt field must not be silently ignored."""
        for key in sorted(set(self._data) - self._seen):
            self.problem(key, "unknown field")
