"""``make bench``: throughput, latency, CPU per request, cold start and memory, side by side.

Three servers run one after another on the same uvicorn (one worker, uvloop, httptools), driven by wrk
from a separate process on loopback:
- the service, started with the exact command ``make run`` executes (read from ``make -n run``), with its
  production settings: metrics and request logging on (the log goes to a file, as a container's would);
- a raw-ASGI floor app (what the server alone costs);
- a bare FastAPI app with the same GET endpoints (the comparison the targets are stated against).
Numbers are printed and written as JSON; nothing here passes or fails a build.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tools.common import markdown_table, run, write_json
from tools.load.process_stats import cpu_seconds, rss_bytes
from tools.load.service import ServiceProcess, free_port, sample_row, start_service
from tools.load.wrk import run_wrk

BATCH_SIZE = 32
_MIN_RATIO = 1.5  # the service's throughput target against the FastAPI baseline
UVICORN_BASELINE = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]


def make_run_command(port: int) -> list[str]:
    """The server command `make run` finally executes, as `make -n run` prints it."""
    # A make that runs this (make bench) must not hand its own flags (-n of a dry run, ...) down.
    not_nested = {"MAKEFLAGS": "", "MFLAGS": "", "MAKELEVEL": ""}
    printed = run(
        ["make", "-s", "-n", "run", "HOST=127.0.0.1", f"PORT={port}"], timeout=60, env=not_nested
    ).stdout
    lines = [line for line in printed.splitlines() if line.strip()]
    if not lines or " -m api" not in lines[-1]:
        msg = f"`make -n run` did not end with the server command:\n{printed}"
        raise RuntimeError(msg)
    return ["bash", "-c", lines[-1]]


def uvicorn_command(target: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *UVICORN_BASELINE,
    ]


CommandForPort = Callable[[int], list[str]]


@contextlib.contextmanager
def serving(
    command_for_port: CommandForPort, ready_path: str, log_dir: Path, name: str
) -> Iterator[ServiceProcess]:
    """One server process for the length of a `with` block; output goes to a log file."""
    port = free_port()
    service = start_service(
        log_dir / f"{name}.log", command=command_for_port(port), port=port, ready_path=ready_path, timeout=30
    )
    try:
        yield service
    finally:
        service.terminate()


def cold_start(
    command_for_port: CommandForPort, ready_path: str, log_dir: Path, name: str, runs: int
) -> dict[str, float]:
    """Spawn → first 200 on the ready path, `runs` times; the spawn includes interpreter start-up."""
    samples = []
    for _ in range(runs):
        with serving(command_for_port, ready_path, log_dir, name) as server:
            samples.append(server.ready_seconds)
    return {
        "median_ms": round(statistics.median(samples) * 1000, 1),
        "min_ms": round(min(samples) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
        "runs": runs,
    }


def measure(
    server: ServiceProcess, path: str, *, seconds: float, connections: int, body: bytes | None = None
) -> dict[str, Any]:
    load = {"connections": connections, "method": "GET" if body is None else "POST", "body": body}
    run_wrk(server.url + path, seconds=min(2.0, seconds), **load)  # warm-up
    cpu_before = cpu_seconds(server.pid)
    result = run_wrk(server.url + path, seconds=seconds, **load)
    cpu_used = cpu_seconds(server.pid) - cpu_before
    return {
        "requests": result.requests,
        "failed": result.failed,
        "req_per_s": round(result.requests_per_second),
        "p50_ms": round(result.p50_us / 1000, 3),
        "p99_ms": round(result.p99_us / 1000, 3),
        "cpu_us_per_request": round(cpu_used * 1e6 / max(result.requests, 1), 1),
    } | {"raw": asdict(result)}


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    row = json.dumps(sample_row()).encode()
    batch = json.dumps({"instances": [sample_row()] * BATCH_SIZE}).encode()
    load = {"seconds": args.seconds, "connections": args.connections}
    report: dict[str, Any] = {"machine": machine(), "load": load | {"wrk_threads": 1}, "servers": {}}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        logs = Path(scratch)
        report["server_command"] = shlex.join(make_run_command(8000))
        print(f"service command (from make -n run): {report['server_command']}", flush=True)  # noqa: T201

        service: dict[str, Any] = {
            "cold_start": cold_start(make_run_command, "/ready", logs, "service", args.cold_starts)
        }
        with serving(make_run_command, "/ready", logs, "service") as server:
            service["GET /predict"] = measure(server, "/predict", **load)
            service["POST /predict"] = measure(server, "/predict", body=row, **load)
            service[f"POST /predict batch={BATCH_SIZE}"] = measure(server, "/predict", body=batch, **load)
            service["rss_after_load_mb"] = round(rss_bytes(server.pid) / 2**20, 1)
            service["log_lines_written"] = sum(1 for _ in server.log_path.open("rb"))
        report["servers"]["service"] = service

        def floor_command(port: int) -> list[str]:
            return uvicorn_command("tools.load.floor_app:app", port)

        with serving(floor_command, "/predict", logs, "floor") as server:
            report["servers"]["floor"] = {"GET /predict": measure(server, "/predict", **load)}

        def fastapi_command(port: int) -> list[str]:
            return uvicorn_command("tools.load.fastapi_app:app", port)

        fastapi: dict[str, Any] = {
            "cold_start": cold_start(fastapi_command, "/health", logs, "fastapi", args.cold_starts)
        }
        with serving(fastapi_command, "/health", logs, "fastapi") as server:
            fastapi["GET /predict"] = measure(server, "/predict", **load)
            fastapi["rss_after_load_mb"] = round(rss_bytes(server.pid) / 2**20, 1)
        report["servers"]["fastapi"] = fastapi
    report["targets"] = targets(report["servers"])
    return report


def targets(servers: dict[str, Any]) -> list[dict[str, Any]]:
    service, fastapi = servers["service"], servers["fastapi"]
    ours, theirs = service["GET /predict"], fastapi["GET /predict"]
    ratio = ours["req_per_s"] / theirs["req_per_s"]
    return [
        {
            "target": f"GET /predict req/s >= {_MIN_RATIO}x FastAPI (aim 2x)",
            "value": f"{ratio:.2f}x",
            "met": ratio >= _MIN_RATIO,
        },
        {
            "target": "GET /predict p99 below FastAPI's",
            "value": f"{ours['p99_ms']} ms vs {theirs['p99_ms']} ms",
            "met": ours["p99_ms"] < theirs["p99_ms"],
        },
        {
            "target": "cold start no slower than FastAPI's",
            "value": f"{service['cold_start']['median_ms']} ms vs {fastapi['cold_start']['median_ms']} ms",
            "met": service["cold_start"]["median_ms"] <= fastapi["cold_start"]["median_ms"],
        },
        {
            "target": "RSS after load no larger than FastAPI's",
            "value": f"{service['rss_after_load_mb']} MB vs {fastapi['rss_after_load_mb']} MB",
            "met": service["rss_after_load_mb"] <= fastapi["rss_after_load_mb"],
        },
    ]


def print_report(report: dict[str, Any]) -> None:
    rows = [("server", "scenario", "req/s", "p50 ms", "p99 ms", "CPU us/req", "failed")]
    for name, server in report["servers"].items():
        for scenario, result in server.items():
            if isinstance(result, dict) and "req_per_s" in result:
                numbers = (result["req_per_s"], f"{result['p50_ms']:.2f}", f"{result['p99_ms']:.2f}")
                rows.append(
                    (
                        name,
                        scenario,
                        *map(str, numbers),
                        f"{result['cpu_us_per_request']:.0f}",
                        str(result["failed"]),
                    )
                )
    print(markdown_table(rows[0], rows[1:]))  # noqa: T201
    for name in ("service", "fastapi"):
        server = report["servers"][name]
        cold = server["cold_start"]
        cold_text = f"cold start median {cold['median_ms']} ms (min {cold['min_ms']}, {cold['runs']} runs)"
        print(f"{name}: {cold_text}; RSS after load {server['rss_after_load_mb']} MB")  # noqa: T201
    for target in report["targets"]:
        print(f"[{'met' if target['met'] else 'NOT MET'}] {target['target']}: {target['value']}")  # noqa: T201


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="JSON report path")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--connections", type=int, default=64, help="concurrent wrk connections")
    parser.add_argument("--cold-starts", type=int, default=5, help="spawns per cold-start measurement")
    args = parser.parse_args()
    report = benchmark(args)
    print_report(report)
    write_json(args.output, report)
    print(f"wrote {args.output}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
