"""The committed capacity measurement (``tools/load/capacity.json``): written by ``make capacity``, read and
validated here for the plan. Per CPU request measured, each endpoint's limit and every step run, so a
reviewer can see the curve the limit was picked from."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

import msgspec

from tools.common import write_atomic
from tools.load.capacity_plan import CapacityError, EndpointCapacity, Measurement

CAPACITY_PATH = Path(__file__).resolve().with_name("capacity.json")


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


class CapacityRecord(msgspec.Struct):
    format: Literal[1]
    date: str
    objective: _Objective
    machine: dict[str, Any]
    method: dict[str, Any]
    measurements: list[_Entry]

    def __post_init__(self) -> None:  # msgspec reports a ValueError here as a ValidationError
        requests = [entry.cpu_request_millicores for entry in self.measurements]
        if len(set(requests)) != len(requests):
            msg = "measurements: a CPU request is measured twice"
            raise CapacityError(msg)
        for request in requests:
            self.measurement_for(request)  # each entry is a valid measurement

    @property
    def objective_p99_milliseconds(self) -> float:
        return self.objective.p99_milliseconds

    def measurement_for(self, cpu_request_millicores: int) -> Measurement:
        for entry in self.measurements:
            if entry.cpu_request_millicores == cpu_request_millicores:
                return Measurement(
                    cpu_request_millicores=cpu_request_millicores,
                    endpoints=tuple(
                        EndpointCapacity(endpoint=name, **msgspec.structs.asdict(endpoint.limit))
                        for name, endpoint in sorted(entry.endpoints.items())
                    ),
                )
        measured = ", ".join(f"{m.cpu_request_millicores}m" for m in self.measurements) or "none"
        msg = (
            f"no measurement at a CPU request of {cpu_request_millicores}m (measured: {measured}); "
            "run `make capacity`, which measures every environment's request"
        )
        raise CapacityError(msg)


def _parse(document: object, source: Path) -> CapacityRecord:
    try:  # msgspec names the field: "... - at `$.measurements[0].date`"
        return msgspec.convert(document, CapacityRecord)
    except msgspec.ValidationError as error:
        msg = f"{source}: {error}"
        raise CapacityError(msg) from error


@cache
def load_capacity_record(path: Path = CAPACITY_PATH) -> CapacityRecord:
    """Read and validate the record; CapacityError names the file and field on any problem."""
    try:
        return _parse(json.loads(path.read_text(encoding="utf-8")), path)
    except FileNotFoundError as error:
        msg = f"{path}: missing; run `make capacity` to measure and write it"
        raise CapacityError(msg) from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        msg = f"{path}: {error}"
        raise CapacityError(msg) from error


def write_capacity_record(document: dict[str, Any], path: Path = CAPACITY_PATH) -> None:
    """Validate ``document`` as a record, then replace ``path`` whole (never a truncated file)."""
    _parse(document, path)
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
    load_capacity_record.cache_clear()
