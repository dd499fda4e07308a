"""The committed capacity measurement (``tools/load/capacity.json``): written by ``make capacity``, read and
validated here for the plan it prints. It informs the HPA targets in manifests_py/environments; it never
sets them.

One entry per CPU request measured (``make capacity`` measures every environment's request); each holds,
per endpoint, the limit (the highest-throughput step whose p99 met the objective) and every step run,
so a reviewer can see the curve the limit was picked from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import msgspec

from tools.common import write_atomic
from tools.load.capacity_plan import CapacityError, EndpointCapacity, Measurement

__all__ = ["CAPACITY_PATH", "FORMAT", "CapacityRecord", "load_capacity_record", "write_capacity_record"]

CAPACITY_PATH = Path(__file__).resolve().with_name("capacity.json")
FORMAT = 1


class _Limit(msgspec.Struct):
    requests_per_second: float
    p99_milliseconds: float
    cpu_millicores: float


class _Endpoint(msgspec.Struct):
    limit: _Limit


class _Entry(msgspec.Struct):
    cpu_request_millicores: int
    endpoints: dict[str, _Endpoint]


class _Objective(msgspec.Struct):
    p99_milliseconds: float


class _Document(msgspec.Struct):
    format: Literal[1]
    date: str
    objective: _Objective
    machine: dict[str, Any]
    method: dict[str, Any]
    measurements: list[_Entry]


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
            f"(measured: {measured}); run `make capacity`, which measures every environment's request"
        )
        raise CapacityError(msg)


def _parse(document: object, source: Path) -> CapacityRecord:
    try:
        parsed = msgspec.convert(document, _Document)
    except msgspec.ValidationError as error:  # names the field: "... - at `$.measurements[0].date`"
        msg = f"{source}: {error}"
        raise CapacityError(msg) from error
    measurements = tuple(
        Measurement(
            cpu_request_millicores=entry.cpu_request_millicores,
            endpoints=tuple(
                EndpointCapacity(endpoint=name, **msgspec.structs.asdict(endpoint.limit))
                for name, endpoint in sorted(entry.endpoints.items())
            ),
        )
        for entry in parsed.measurements
    )
    requests = [m.cpu_request_millicores for m in measurements]
    if len(set(requests)) != len(requests):
        msg = f"{source}: measurements: a CPU request is measured twice"
        raise CapacityError(msg)
    return CapacityRecord(
        source=source,
        date=parsed.date,
        objective_p99_milliseconds=parsed.objective.p99_milliseconds,
        machine=parsed.machine,
        method=parsed.method,
        measurements=measurements,
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
    """Validate ``document`` as a record, then replace ``path`` whole (never a truncated file)."""
    record = _parse(json.loads(json.dumps(document)), path)
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
    load_capacity_record.cache_clear()
    return record
