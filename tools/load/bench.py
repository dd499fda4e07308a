"""``make bench``: throughput, latency, CPU per request, cold start and memory, side by side.

Three servers run one after another on the same uvicorn (one worker, uvloop, httptools), driven by wrk on
loopback: the service, started with the exact command ``make run`` executes (production settings: metrics
and request logging on, the log to a file as a container's would), and the two baselines.py apps.
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

from tools.common import free_port, markdown_table, run, write_json
from tools.load.service import ServiceProcess, cpu_seconds, rss_bytes, running_service, sample_row
from tools.load.wrk import run_wrk

BATCH_SIZE = 32
_MIN_RATIO = 1.5  # the service's throughput target against the FastAPI baseline

CommandForPort = Callable[[int], list[str]]


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


def uvicorn_command(target: str) -> CommandForPort:
    """A baseline app on the same uvicorn settings as the service."""
    return lambda port: [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port",
                         str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                         "--log-level", "warning"]  # fmt: skip


@contextlib.contextmanager
def serving(command: CommandForPort, ready_path: str, log: Path) -> Iterator[ServiceProcess]:
    """One server process for the length of a `with` block; output goes to ``log``."""
    port = free_port()
    with running_service(log, command=command(port), port=port, ready_path=ready_path, timeout=30) as server:
        yield server


def cold_start(command: CommandForPort, ready_path: str, log: Path, runs: int) -> dict[str, float]:
    """Spawn → first 200 on the ready path, `runs` times; the spawn includes interpreter start-up."""
    samples = []
    for _ in range(runs):
        with serving(command, ready_path, log) as server:
            samples.append(server.ready_seconds * 1000)
    return {"median_ms": round(statistics.median(samples), 1), "min_ms": round(min(samples), 1),
            "max_ms": round(max(samples), 1), "runs": runs}  # fmt: skip


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
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    return {
        "cpu": models[0] if models else platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    row = json.dumps(sample_row()).encode()
    batch = json.dumps({"instances": [sample_row()] * BATCH_SIZE}).encode()
    load = {"seconds": args.seconds, "connections": args.connections}
    command = shlex.join(make_run_command(8000))
    print(f"service command (from make -n run): {command}", flush=True)  # noqa: T201
    # Each server: how to start it, the path that answers once it is up, and the scenarios run against it.
    servers = {
        "service": (
            make_run_command,
            "/ready",
            {"POST /predict": row, f"POST /predict batch={BATCH_SIZE}": batch},
        ),
        "floor": (uvicorn_command("tools.load.baselines:floor"), "/predict", {}),
        "fastapi": (uvicorn_command("tools.load.baselines:fastapi"), "/health", {}),
    }
    report: dict[str, Any] = {
        "machine": machine(),
        "load": load | {"wrk_threads": 1},
        "server_command": command,
    }
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        for name, (start, ready, scenarios) in servers.items():
            log = Path(scratch) / f"{name}.log"
            result = results[name] = {}
            if name != "floor":
                result["cold_start"] = cold_start(start, ready, log, args.cold_starts)
            with serving(start, ready, log) as server:
                result["GET /predict"] = measure(server, "/predict", **load)
                for scenario, body in scenarios.items():
                    result[scenario] = measure(server, "/predict", body=body, **load)
                if name != "floor":
                    result["rss_after_load_mb"] = round(rss_bytes(server.pid) / 2**20, 1)
            if name == "service":
                result["log_lines_written"] = sum(1 for _ in log.open("rb"))
    return report | {"servers": results, "targets": targets(results)}


def targets(servers: dict[str, Any]) -> list[dict[str, Any]]:
    service, fastapi = servers["service"], servers["fastapi"]
    ours, theirs = service["GET /predict"], fastapi["GET /predict"]
    ratio = ours["req_per_s"] / theirs["req_per_s"]
    cold = service["cold_start"]["median_ms"], fastapi["cold_start"]["median_ms"]
    rss = service["rss_after_load_mb"], fastapi["rss_after_load_mb"]
    checks = [
        (f"GET /predict req/s >= {_MIN_RATIO}x FastAPI (aim 2x)", f"{ratio:.2f}x", ratio >= _MIN_RATIO),
        ("GET /predict p99 below FastAPI's", f"{ours['p99_ms']} ms vs {theirs['p99_ms']} ms",
         ours["p99_ms"] < theirs["p99_ms"]),
        ("cold start no slower than FastAPI's", f"{cold[0]} ms vs {cold[1]} ms", cold[0] <= cold[1]),
        ("RSS after load no larger than FastAPI's", f"{rss[0]} MB vs {rss[1]} MB", rss[0] <= rss[1]),
    ]  # fmt: skip
    return [{"target": target, "value": value, "met": met} for target, value, met in checks]


def print_report(report: dict[str, Any]) -> None:
    rows = [("server", "scenario", "req/s", "p50 ms", "p99 ms", "CPU us/req", "failed")]
    for name, server in report["servers"].items():
        for scenario, result in server.items():
            if isinstance(result, dict) and "req_per_s" in result:
                numbers = (f"{result['p50_ms']:.2f}", f"{result['p99_ms']:.2f}")
                cpu = f"{result['cpu_us_per_request']:.0f}"
                rows.append((name, scenario, str(result["req_per_s"]), *numbers, cpu, str(result["failed"])))
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
