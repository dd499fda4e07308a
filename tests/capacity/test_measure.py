"""The measuring code, in tiny bounded runs: the CPU quota is real and cleaned up, a refusal is clear, and
`make capacity`'s command produces a well-formed record and plan. The figures themselves come from
`make capacity`, never from a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from manifests_py.config import load_environment
from tests.capacity.conftest import make_capacity_arguments
from tools.common import REPO_ROOT
from tools.load.capacity import main
from tools.load.capacity_measure import CPU_CGROUP_ROOT, CgroupUnavailableError, cpu_quota
from tools.load.capacity_plan import load_capacity_record
from tools.load.service import cpu_seconds


def cgroups_writable():
    return (CPU_CGROUP_ROOT / "cpu.cfs_quota_us").is_file() and os.access(CPU_CGROUP_ROOT, os.W_OK)


needs_cgroups = pytest.mark.skipif(
    not cgroups_writable(),
    reason=f"{CPU_CGROUP_ROOT} is not a writable cgroup v1 cpu controller (needs root)",
)


def test_make_passes_every_plan_input_and_the_tool_has_no_defaults_of_its_own(capsys):
    arguments = make_capacity_arguments()
    for option in ("--rate", "--instance", "--allocatable-cpu", "--allocatable-memory", "--max-pods",
                   "--daemonset-cpu", "--daemonset-memory", "--daemonset-pods", "--price",
                   "--objective-p99-ms", "--repeats", "--step-seconds"):  # fmt: skip
        assert option in arguments, option
    with pytest.raises(SystemExit):
        main(["--plan-only"])
    assert "the following arguments are required: --rate" in capsys.readouterr().err
    at = arguments.index("--repeats")
    with pytest.raises(SystemExit):
        main(arguments[:at] + arguments[at + 2 :])
    assert "measuring needs --objective-p99-ms, --step-seconds and --repeats" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-pods", ["0"], "max_pods: Input should be greater than 0, got 0"),
        ("--repeats", ["0"], "repeats: Input should be greater than 0, got 0"),
        ("--objective-p99-ms", ["-5"], "objective_p99_milliseconds: Input should be greater than 0"),
        ("--fractions", ["0.5", "0.3"], "fractions: must rise step by step"),
        ("--fractions", ["0.5", "1.5"], "fractions[1]: Input should be less than or equal to 1"),
    ],
)
def test_an_impossible_node_or_load_plan_is_bad_input_naming_the_field(
    capsys, monkeypatch, option, value, message
):
    monkeypatch.setattr("tools.load.capacity.measure", lambda *_: pytest.fail("measured bad input"))
    arguments = make_capacity_arguments()
    at = arguments.index(option) if option in arguments else len(arguments)
    arguments[at : at + 2] = [option, *value]
    assert main(arguments) == 2
    assert f"error: {message}" in capsys.readouterr().err


def test_without_a_cpu_controller_it_refuses_to_measure(tmp_path):
    refused = pytest.raises(
        CgroupUnavailableError, match=r"no cgroup v1 cpu controller at .*refusing to measure"
    )
    with refused, cpu_quota(500, root=tmp_path):
        pass


def test_when_the_cgroup_cannot_be_created_it_refuses_to_measure(tmp_path, monkeypatch):
    (tmp_path / "cpu.cfs_quota_us").write_text("-1\n")
    monkeypatch.setattr("tools.load.capacity_measure.uuid.uuid4", lambda: uuid.UUID(int=0))
    (tmp_path / f"predictor-capacity-{os.getpid()}-00000000").write_text("in the way")
    refused = pytest.raises(CgroupUnavailableError, match=r"cannot create the cgroup .*refusing to measure")
    with refused, cpu_quota(500, root=tmp_path):
        pass


def test_the_command_refuses_without_cgroups_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        "tools.load.capacity_measure.cpu_quota", lambda *_a, **_k: cpu_quota(500, root=tmp_path)
    )
    output = tmp_path / "capacity.json"
    assert main([*make_capacity_arguments(), "--environments", "prod", "--output", str(output)]) == 1
    assert "refusing to measure without the pod's CPU quota" in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.parametrize("millicores", [0, -250, 5])
def test_impossible_quotas_are_refused(millicores):
    with pytest.raises(ValueError, match="quota"), cpu_quota(millicores):
        pass


@pytest.mark.system
@needs_cgroups
def test_the_quota_holds_a_busy_process_and_is_removed_afterwards():
    with cpu_quota(250) as quota:
        assert (quota.path / "cpu.cfs_quota_us").read_text().strip() == "25000"
        assert (quota.path / "cpu.cfs_period_us").read_text().strip() == "100000"
        busy = subprocess.Popen(
            ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(quota.procs_file), sys.executable, "-c",
             "import time\nend = time.monotonic() + 2\nwhile time.monotonic() < end: pass"],
        )  # fmt: skip
        time.sleep(0.3)
        assert str(busy.pid) in quota.procs_file.read_text().split()
        started, used_before = time.monotonic(), cpu_seconds(busy.pid)
        time.sleep(1.0)
        share = (cpu_seconds(busy.pid) - used_before) / (time.monotonic() - started)
        busy.wait(timeout=10)
        assert share <= 0.25 * 1.3, f"a busy loop held to 250m used {share:.2f} CPU"
        assert quota.throttled() > 0
        path = quota.path
    assert not path.exists(), "the cgroup is removed afterwards"


@pytest.mark.slow
@pytest.mark.system
@needs_cgroups
def test_make_capacity_command_writes_a_well_formed_record_in_a_tiny_run(tmp_path):
    """One environment, one climb, one offered rate of one second: a shape check, not a measurement."""
    if not (REPO_ROOT / ".venv-run" / "bin" / "python").exists():
        pytest.skip(".venv-run is missing: run `make bootstrap`")
    output = tmp_path / "capacity.json"
    # A low rate and a lax objective: on a busy machine the shape, not the figure, is under test.
    tiny = ["--environments", "prod", "--output", str(output), "--repeats", "1", "--step-seconds", "2",
            "--fractions", "0.2", "--objective-p99-ms", "1000"]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "tools.load.capacity", *make_capacity_arguments(), *tiny],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    record = load_capacity_record(output)
    request = load_environment("prod").resources.cpu_request_millicores
    measurement = record.measurement_for(request)
    assert set(measurement.endpoints) == {"GET /predict", "POST /predict"}
    document = json.loads(output.read_text())
    (entry,) = document["measurements"]
    for endpoint in entry["endpoints"].values():
        (climb,) = endpoint["climbs"]
        (step,) = climb["steps"]
        assert step["requests"] > 0
        assert step["failed"] == 0
        assert step["cpu_millicores"] <= request * 1.3, "the server ran inside its quota"
    assert "| env " in result.stdout
    assert "| prod " in result.stdout
    leftovers = [
        p.name for p in CPU_CGROUP_ROOT.iterdir() if p.name.startswith(f"predictor-capacity-{result.args}")
    ]
    assert leftovers == []
