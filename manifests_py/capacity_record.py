"""The committed capacity measurement (``manifests_py/capacity.json``): written by ``make capacity``, read
and validated here, so the construct's defaults come from what was measured and never from a retyped number.

One entry per CPU request measured (``make capacity`` measures every environment's request); each holds,
per endpoint, the limit (the highest-throughput step whose p99 met the objective) and every step run,
so a reviewer can see the curve the limit was picked from.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from manifests_py.capacity import CapacityError, EndpointCapacity, Measurement, hpa_cpu_target_percent

__all__ = [
    "CAPACITY_PATH",
    "FORMAT",
    "CapacityRecord",
    "derived_cpu_target_percent",
    "load_capacity_record",
    "write_capacity_record",
]

CAPACITY_PATH = Path(__file__).resolve().with_name("capacity.json")
FORMAT = 1
_LIMIT_FIELDS = ("requests_per_second", "p99_milliseconds", "cpu_millicores")


@dataclass(frozen=True, kw_only=True)
class CapacityRecord:
    source: Path
    date: str
    objective_p99_milliseconds: float
    machine: Mapping[str, Any]
    method: Mapping[str, Any]
    measurements: tuple[Measurement, ...]

    def measurement_for(self, cpu_request_millicores: int) -> Measurement:
        for measurement in self.measurements:
            if measurement.cpu_request_millicores == cpu_request_millicores:
                return measurement
        measured = ", ".join(f"{m.cpu_request_millicores}m" for m in self.measurements) or "none"
        msg = (
            f"{self.source}: no measurement at a CPU request of {cpu_request_millicores}m "
            f"(measured: {measured}); run `make capacity`, which measures every environment's request, "
            "or set scale.cpu_target_percent"
        )
        raise CapacityError(msg)


def _field(node: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:  # noqa: ANN401 - JSON
    if key not in node:
        msg = f"{where}.{key}: missing"
        raise CapacityError(msg)
    value = node[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        msg = f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}"
        raise CapacityError(msg)
    return value


def _endpoint(name: str, document: Mapping[str, Any], where: str) -> EndpointCapacity:
    limit = _field(document, "limit", where, dict)
    numbers = {key: _field(limit, key, f"{where}.limit", (int, float)) for key in _LIMIT_FIELDS}
    return EndpointCapacity(
        endpoint=name,
        requests_per_second=float(numbers["requests_per_second"]),
        p99_milliseconds=float(numbers["p99_milliseconds"]),
        cpu_millicores=float(numbers["cpu_millicores"]),
    )


def _parse(document: object, source: Path) -> CapacityRecord:
    where = str(source)
    if not isinstance(document, dict):
        msg = f"{where}: expected a JSON object"
        raise CapacityError(msg)
    if document.get("format") != FORMAT:
        msg = f"{where}.format: expected {FORMAT}, got {document.get('format')!r}"
        raise CapacityError(msg)
    objective = _field(document, "objective", where, dict)
    measurements = []
    for index, entry in enumerate(_field(document, "measurements", where, list)):
        at = f"{where}.measurements[{index}]"
        if not isinstance(entry, dict):
            msg = f"{at}: expected an object"
            raise CapacityError(msg)
        endpoints = _field(entry, "endpoints", at, dict)
        measurements.append(
            Measurement(
                cpu_request_millicores=_field(entry, "cpu_request_millicores", at, int),
                endpoints=tuple(
                    _endpoint(name, value, f"{at}.endpoints[{name!r}]")
                    for name, value in sorted(endpoints.items())
                ),
            )
        )
    requests = [m.cpu_request_millicores for m in measurements]
    if len(set(requests)) != len(requests):
        msg = f"{where}.measurements: a CPU request is measured twice"
        raise CapacityError(msg)
    return CapacityRecord(
        source=source,
        date=_field(document, "date", where, str),
        objective_p99_milliseconds=float(
            _field(objective, "p99_milliseconds", f"{where}.objective", (int, float))
        ),
        machine=_field(document, "machine", where, dict),
        method=_field(document, "method", where, dict),
        measurements=tuple(measurements),
    )


@cache
def load_capacity_record(path: Path = CAPACITY_PATH) -> CapacityRecord:
    """Read and validate the record; CapacityError names the file and field on any problem."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        msg = f"{path}: missing; run `make capacity` to measure and write it"
        raise CapacityError(msg) from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        msg = f"{path}: {error}"
        raise CapacityError(msg) from error
    return _parse(document, path)


def write_capacity_record(document: Mapping[str, Any], path: Path = CAPACITY_PATH) -> CapacityRecord:
    """Validate ``document`` as a record, then replace ``path`` atomically (never a truncated file)."""
    record = _parse(json.loads(json.dumps(document)), path)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
        Path(partial).chmod(0o644)
        Path(partial).replace(path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    load_capacity_record.cache_clear()
    return record


def derived_cpu_target_percent(cpu_request_millicores: int, path: Path = CAPACITY_PATH) -> int:
    """The HPA target the committed measurement derives for a pod with this CPU request."""
    return hpa_cpu_target_percent(load_capacity_record(path).measurement_for(cpu_request_millicores))
