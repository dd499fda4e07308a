"""`make bench`'s report: targets judged on interleaved ratios; the README table rendered from the file."""

from __future__ import annotations

import json

import pytest

from tools.load.bench import README_END, README_START, rewrite_readme, targets


def _samples(service_rps, fastapi_rps, service_cold, fastapi_cold):
    return {
        "service": {"GET /predict req/s": service_rps, "cold start ms": service_cold},
        "fastapi": {"GET /predict req/s": fastapi_rps, "cold start ms": fastapi_cold},
    }


def test_targets_use_the_median_of_the_per_round_ratios_in_each_direction():
    # Per-round GET ratios 3, 1, 2.5 (median 2.5) although the medians alone give 2000 / 1000 = 2.
    # Cold-start ratios 0.5, 0.8, 0.4 (median 0.5).
    checks = targets(_samples([3000, 2000, 1000], [1000, 2000, 400], [100, 160, 80], [200, 200, 200]))
    by_metric = {check["metric"]: check for check in checks}
    assert by_metric["GET /predict req/s"] == {
        "server": "service", "metric": "GET /predict req/s", "ratio": 2.5, "target": 2.0, "met": True,
        "verdict": "2.50x (target 2.0x: met)",
    }  # fmt: skip
    assert by_metric["cold start ms"]["ratio"] == 0.5
    assert by_metric["cold start ms"]["met"] is True
    slow = targets(_samples([1000], [1000], [700], [1000]))
    assert [check["met"] for check in slow] == [False, False]


def test_the_image_is_judged_against_fastapi_started_by_the_same_runtime():
    samples = _samples([3000], [1000], [100], [400])
    # The image pays the runtime's start: 300 ms is 0.75x the host's FastAPI but 0.5x FastAPI in it.
    samples |= {"image": {"cold start ms": [300]}, "fastapi-image": {"cold start ms": [600]}}
    image = [check for check in targets(samples) if check["server"] == "image"]
    assert [(check["ratio"], check["met"]) for check in image] == [(0.5, True)]


def _report():
    machine = {
        "cpu": "Test CPU 9000",
        "cores": 2,
        "python": "3.11.7",
        "kernel": "6.1",
        "date": "2026-12-06T05:00:00Z",
    }
    figures = {"median": 10.0, "min": 9.0, "max": 11.0, "samples": [9.0, 10.0, 11.0]}
    samples = _samples([3000], [1000], [100], [400])
    return {
        "machine": machine,
        "command": "exec .venv-run/bin/python -m api",
        "load": {"rounds": 1, "seconds": 5.0, "connections": 64, "server_cores": "0", "wrk_threads": 1},
        "image": "not measured: no image given",
        "metrics": {name: dict.fromkeys(metrics, figures) for name, metrics in samples.items()},
        "targets": targets(samples),
    }


def test_the_readme_section_is_rewritten_from_the_report_and_nothing_else(tmp_path):
    report = tmp_path / "bench.json"
    report.write_text(json.dumps(_report()), encoding="utf-8")
    readme = tmp_path / "README.md"
    before, after = "# Title\n\nintro\n", "\n## Next\n\nkept\n"
    readme.write_text(f"{before}{README_START}\nstale typed figures\n{README_END}{after}", encoding="utf-8")
    rewrite_readme(report, readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(before + README_START)
    assert text.endswith(README_END + after)
    assert "stale typed figures" not in text
    assert "Test CPU 9000" in text
    assert "2026-12-06T05:00:00Z" in text
    assert "| service: GET /predict req/s | 10 (9-11)" in text
    assert "3.00x (target 2.0x: met)" in text
    assert "not measured: no image given" in text
    rewrite_readme(report, readme)
    assert readme.read_text(encoding="utf-8") == text


def test_a_readme_without_the_markers_is_refused_and_left_alone(tmp_path):
    report = tmp_path / "bench.json"
    report.write_text(json.dumps(_report()), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("# no table here\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no section between"):
        rewrite_readme(report, readme)
    assert readme.read_text(encoding="utf-8") == "# no table here\n"
