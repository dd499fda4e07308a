"""The committed measurement (tools/load/capacity.json): complete for every environment, validated on
read with the field named, and replaced atomically."""

from __future__ import annotations

import json

import pytest

from manifests_py.config import known_environments, load_environment
from tools.load.capacity_plan import (
    CAPACITY_PATH,
    CapacityError,
    load_capacity_record,
    write_capacity_record,
)


def document():
    return json.loads(CAPACITY_PATH.read_text(encoding="utf-8"))


def test_the_committed_record_measures_every_environments_request():
    record = load_capacity_record()
    for name in known_environments():
        request = load_environment(name).resources.cpu_request_millicores
        measurement = record.measurement_for(request)
        assert set(measurement.endpoints) == {"GET /predict", "POST /predict"}
        for _, limit in measurement.limits():
            assert limit.p99_milliseconds <= record.objective.p99_milliseconds
            assert limit.cpu_millicores <= request * 1.1, "the quota held the pod to its request"


def test_the_record_says_how_where_and_when():
    record = load_capacity_record()
    assert record.date
    assert {"cpu", "cores", "kernel"} <= set(record.machine)
    assert {"server", "cpu", "load", "repeats", "aggregate"} <= set(record.method)
    for entry in document()["measurements"]:
        assert (
            entry["cgroup"]["cpu.cfs_quota_us"] * 1000
            == entry["cpu_request_millicores"] * entry["cgroup"]["cpu.cfs_period_us"]
        )
        for endpoint in entry["endpoints"].values():
            assert len(endpoint["climbs"]) == record.method["repeats"]
            assert endpoint["climbs"][0]["steps"], "every step is kept for review"


def test_an_unmeasured_request_names_what_to_do():
    with pytest.raises(
        CapacityError, match=r"no measurement at a CPU request of 123m .* run `make capacity`"
    ):
        load_capacity_record().measurement_for(123)


def test_a_missing_record_names_the_command(tmp_path):
    with pytest.raises(CapacityError, match=r"missing; run `make capacity`"):
        load_capacity_record(tmp_path / "capacity.json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("objective"), r"objective: missing"),
        (lambda d: d.update(format=99), r"format: Input should be 1, got 99"),
        (
            lambda d: d["measurements"][0].pop("cpu_request_millicores"),
            r"measurements\[0\]\.cpu_request_millicores: missing",
        ),
        (
            lambda d: next(iter(d["measurements"][0]["endpoints"].values()))["limit"].update(
                cpu_millicores="lots"
            ),
            r"measurements\[0\]\.endpoints\..*\.limit\.cpu_millicores: Input should be a valid number",
        ),
        (
            lambda d: d["measurements"].append(d["measurements"][0]),
            r": measurements: a CPU request is measured twice",
        ),
    ],
)
def test_a_broken_record_is_refused_naming_the_field(tmp_path, change, message):
    broken = document()
    change(broken)
    path = tmp_path / "capacity.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(CapacityError, match=message):
        load_capacity_record(path)


def test_not_json_is_refused(tmp_path):
    path = tmp_path / "capacity.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(CapacityError, match=str(path)):
        load_capacity_record(path)


def test_writing_validates_first_and_never_leaves_a_partial_file(tmp_path):
    path = tmp_path / "capacity.json"
    write_capacity_record(document(), path)
    before = path.read_bytes()
    broken = document()
    broken.pop("measurements")
    with pytest.raises(CapacityError, match="measurements: missing"):
        write_capacity_record(broken, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["capacity.json"], "no temporary file left behind"
    assert load_capacity_record(path).measurements == load_capacity_record().measurements
