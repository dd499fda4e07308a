"""Turn the typed spec dataclasses of hand-written L1 objects into Kubernetes JSON (camelCase, no nulls)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from enum import Enum

__all__ = ["JSON_NAME", "to_json"]

# Field metadata key for a JSON name that is not the camelCase of the Python name (e.g. targetGroupARN).
JSON_NAME = "json_name"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_json(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        document: dict[str, object] = {}
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if item is None:
                continue
            document[field.metadata.get(JSON_NAME, _camel(field.name))] = to_json(item)
        return document
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [to_json(item) for item in value]
    return value
