"""Turns a POST /predict body into rows of feature values, or a RequestError naming what was wrong.

The fast path is msgspec: an untyped decode, then a conversion into structs generated from the model's
feature names, whose errors carry the JSON path of the offending value. Only when msgspec rejects the
bytes does the slow path run, to say *why* (invalid UTF-8, NaN or Infinity at a named field, malformed
JSON at a position, nesting too deep).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from api.errors import RequestError
from api.model import LogisticModel

__all__ = ["ParsedRequest", "RequestParser"]

_ERROR_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]+)`$")
_JSON_MEDIA_TYPES = frozenset({"application/json"})
_NOT_FINITE = "not a finite number in float range (NaN and Infinity are not JSON)"
_MAX_FLOAT_DIGITS = 309


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    rows: list[tuple[float, ...]]
    batch: bool


class _NonFinite(float):
    """Marks a NaN, Infinity or out-of-range number that Python's json accepted and JSON forbids."""


class RequestParser:
    """Validates request bodies against one model's features and the batch limit."""

    def __init__(self, model: LogisticModel, *, max_batch_size: int) -> None:
        # Types built at run time from the model's feature names: msgspec then checks presence, unknown
        # names and types in C, and reports the JSON path of the first offending value.
        row_type: Any = msgspec.defstruct(
            "Features",
            [(name, float) for name in model.feature_names],
            forbid_unknown_fields=True,
            frozen=True,
        )
        instances: Any = Annotated[list[row_type], msgspec.Meta(min_length=1, max_length=max_batch_size)]
        self.row_type: type[msgspec.Struct] = row_type
        self.batch_type: type[msgspec.Struct] = msgspec.defstruct(
            "Batch", [("instances", instances)], forbid_unknown_fields=True, frozen=True
        )

    @staticmethod
    def check_content_type(content_type: str | None) -> None:
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        if media_type not in _JSON_MEDIA_TYPES:
            shown = content_type or "none"
            msg = f"content type must be application/json, got {shown}"
            raise RequestError(415, msg, field="content-type")

    def parse(self, body: bytes) -> ParsedRequest:
        if not body.strip():
            raise RequestError(400, "request body is empty; send a JSON object", field="body")
        try:
            document = msgspec.json.decode(body)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            raise _diagnose(body) from None
        if not isinstance(document, dict):
            msg = 'body must be a JSON object of features, or {"instances": [objects of features]}'
            raise RequestError(422, msg, field="body")
        try:
            if "instances" in document:
                batch = msgspec.convert(document, self.batch_type)
                return ParsedRequest([msgspec.structs.astuple(row) for row in batch.instances], batch=True)  # type: ignore[attr-defined]
            return ParsedRequest(
                [msgspec.structs.astuple(msgspec.convert(document, self.row_type))], batch=False
            )
        except msgspec.ValidationError as error:
            raise _from_validation_error(error) from None


def _from_validation_error(error: msgspec.ValidationError) -> RequestError:
    match = _ERROR_AT.match(str(error))
    message, path = (match["message"], match["path"] or "") if match else (str(error), "")
    named = _NAMED_FIELD.match(message)
    if named:
        path = f"{path}.{named['name']}"
    if message in {"Number out of range", "Integer value out of range"}:
        message = _NOT_FINITE
    return RequestError(422, message, field=path.removeprefix(".") or "body")


def _diagnose(body: bytes) -> RequestError:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return RequestError(400, f"body is not valid UTF-8 (byte {error.start})", field="body")
    try:
        document = json.loads(text, parse_constant=_NonFinite, parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        return RequestError(400, f"malformed JSON: {error.msg} ({where})", field="body")
    except RecursionError:
        return RequestError(400, "malformed JSON: nesting too deep", field="body")
    except ValueError as error:
        return RequestError(400, f"malformed JSON: {error}", field="body")
    path = _first_non_finite(document, "")
    if path is not None:
        return RequestError(422, _NOT_FINITE, field=path or "body")
    # msgspec refused what Python's json accepts for another reason (e.g. a number msgspec can't hold).
    return RequestError(400, "malformed JSON", field="body")


def _parse_float(literal: str) -> float:
    value = float(literal)
    return value if math.isfinite(value) else _NonFinite(value)


def _parse_int(literal: str) -> int | float:
    # Past 309 digits no float can hold it; converting would also hit Python's digit limit.
    if len(literal.lstrip("-")) > _MAX_FLOAT_DIGITS:
        return _NonFinite("inf")
    return int(literal)


def _first_non_finite(document: Any, path: str) -> str | None:  # noqa: ANN401 - any decoded JSON value
    stack: list[tuple[Any, str]] = [(document, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, _NonFinite):
            return where.removeprefix(".")
        if isinstance(value, dict):
            stack.extend((item, f"{where}.{key}") for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]") for index, item in reversed(list(enumerate(value))))
    return None
