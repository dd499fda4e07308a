"""``make bench``: the service against a bare FastAPI app, interleaved over rounds, medians with min-max.

Each round starts each server once, alternating which goes first: a cold-start sample (spawn to the first
200 on its ready path), then wrk on GET /predict and POST /predict (one row), then RSS. The service runs
the exact command `make run` executes (production settings); FastAPI keeps the bytecode a discarded first
start writes, as the run environment's is compiled at install; ``--image`` cold-starts the image's own
entrypoint under `buildah run` too, against FastAPI started by the same runtime in the same container
(the image's Python; the baseline and its packages mounted read-only), so both pay the runtime's own
start. Servers run on the first core, wrk on the last. ``--readme`` renders
the report as README.md's table, so it is never typed. Nothing here passes or fails a build.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tools.common import LOOPBACK, REPO_ROOT, free_port, markdown_table, run, write_atomic, write_json
from tools.load.service import ServiceProcess, cpu_seconds, rss_bytes, running_service, sample_row
from tools.load.wrk import run_wrk

CommandForPort = Callable[[int], list[str]]
CONNECTIONS = 64
# (server, metric, higher is better, target ratio to its FastAPI's)
TARGETS = (("service", "GET /predict req/s", True, 2.0), ("service", "POST /predict req/s", True, 1.5),
           ("service", "GET /predict p99 ms", False, 1.0), ("service", "POST /predict p99 ms", False, 1.0),
           ("service", "cold start ms", False, 0.6), ("image", "cold start ms", False, 0.6))  # fmt: skip
# Each server's FastAPI, started the same way.
BASELINE = {"service": "fastapi", "image": "fastapi-image"}
LOADED = ("service", "fastapi")  # the image's servers are started for their cold start only
README_START, README_END = "<!-- bench table: make bench-readme -->", "<!-- end of bench table -->"
_CORES = sorted(os.sched_getaffinity(0))
_SERVER_CORES = [str(_CORES[0])] if len(_CORES) > 1 else []


def make_run_command(port: int) -> list[str]:
    """The server command `make run` finally executes, as `make -n run` prints it."""
    # A make that runs this (make bench) must not hand its own flags (-n of a dry run, ...) down.
    not_nested = {"MAKEFLAGS": "", "MFLAGS": "", "MAKELEVEL": ""}
    printed = run(
        ["make", "-s", "-n", "run", f"HOST={LOOPBACK}", f"PORT={port}"], timeout=60, env=not_nested
    ).stdout
    lines = [line for line in printed.splitlines() if line.strip()]
    if not lines or " -m api" not in lines[-1]:
        msg = f"`make -n run` did not end with the server command:\n{printed}"
        raise RuntimeError(msg)
    return ["bash", "-c", lines[-1]]


def fastapi_command(port: int, python: str = sys.executable) -> list[str]:
    return [python, "-m", "uvicorn", "tools.load.baselines:fastapi", "--host", LOOPBACK, "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning"]  # fmt: skip


def _in_container(container: str, port: int, *options: str) -> list[str]:
    return ["buildah", "run", "--isolation", "chroot", "--network", "host",
            "--env", f"PREDICTOR_HOST={LOOPBACK}", "--env", f"PREDICTOR_PORT={port}",
            *options, container, "--"]  # fmt: skip


def image_command(container: str) -> CommandForPort:
    """The image's entrypoint in a working container of it, on the host's loopback (chroot isolation)."""
    config = json.loads(run(["buildah", "inspect", "--type", "container", container], timeout=60).stdout)
    entrypoint = config["OCIv1"]["config"]["Entrypoint"]
    return lambda port: [*_in_container(container, port), *entrypoint]


def fastapi_image_command(container: str) -> CommandForPort:
    """FastAPI under the same runtime and the image's Python; the image has no FastAPI, so the repository
    and this environment's packages (with the bytecode the host's first start wrote) are mounted read-only."""
    packages = sysconfig.get_paths()["purelib"]
    mounts = ("--volume", f"{REPO_ROOT}:/bench:ro", "--volume", f"{packages}:/bench-packages:ro",
              "--env", "PYTHONPATH=/bench:/bench-packages")  # fmt: skip
    return lambda port: [*_in_container(container, port, *mounts), *fastapi_command(port, "python")]


def _descendants(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return children + [grandchild for child in children for grandchild in _descendants(child)]
    return []


@contextlib.contextmanager
def serving(command: CommandForPort, ready: str, log: Path, env: dict[str, str]) -> Iterator[ServiceProcess]:
    port = free_port()
    pinned = ["taskset", "-c", *_SERVER_CORES] if _SERVER_CORES else []
    with running_service(log, command=[*pinned, *command(port)], port=port, ready_path=ready,
                         env=env, timeout=60) as server:  # fmt: skip
        yield server
        # SIGTERM reaches the server itself, as a runtime sends it to PID 1 (buildah does not forward it).
        for pid in _descendants(server.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def load(server: ServiceProcess, body: bytes | None, seconds: float, connections: int) -> dict[str, float]:
    options = {"connections": connections, "method": "GET" if body is None else "POST", "body": body}
    run_wrk(server.url + "/predict", seconds=1.0, **options)  # warm-up
    cpu_before = cpu_seconds(server.pid)
    result = run_wrk(server.url + "/predict", seconds=seconds, **options)
    cpu_us = (cpu_seconds(server.pid) - cpu_before) * 1e6 / max(result.requests, 1)
    if result.failed:
        msg = f"{result.failed} of {result.requests} requests failed: see {server.log_path}"
        raise RuntimeError(msg)
    # The server's CPU per request is the figure a busy machine disturbs least.
    return {"req/s": round(result.requests_per_second), "p99 ms": round(result.p99_us / 1000, 2),
            "CPU us/request": round(cpu_us, 1)}  # fmt: skip


@contextlib.contextmanager
def working_container(image: str) -> Iterator[str]:
    created = run(["buildah", "from", "--pull-never", image], timeout=600)
    if created.returncode != 0:
        msg = f"--image {image}: buildah from failed: {created.stderr.strip()}"
        raise SystemExit(msg)
    try:
        yield created.stdout.strip()
    finally:
        run(["buildah", "rm", created.stdout.strip()], timeout=120)


def benchmark(args: argparse.Namespace, scratch: Path, stack: contextlib.ExitStack) -> dict[str, Any]:
    bodies = {"GET /predict": None, "POST /predict": json.dumps(sample_row()).encode()}
    # A present but empty PYTHONDONTWRITEBYTECODE is unset for Python: FastAPI keeps its bytecode.
    servers: dict[str, tuple[CommandForPort, str, dict[str, str]]] = {
        "service": (make_run_command, "/ready", {}),
        "fastapi": (fastapi_command, "/health", {"PYTHONDONTWRITEBYTECODE": ""}),
    }
    if args.image:
        container = stack.enter_context(working_container(args.image))
        servers["image"] = (image_command(container), "/ready", {})
        servers["fastapi-image"] = (fastapi_image_command(container), "/health", {})
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
    for name, (command, ready, env) in servers.items():  # discarded first starts: bytecode, caches warm
        with serving(command, ready, scratch / f"{name}.log", env):
            pass
    for round_ in range(args.rounds):
        for name in list(servers) if round_ % 2 == 0 else reversed(servers):
            command, ready, env = servers[name]
            with serving(command, ready, scratch / f"{name}.log", env) as server:
                observed = {"cold start ms": round(server.ready_seconds * 1000, 1)}
                if name in LOADED:
                    for scenario, body in bodies.items():
                        numbers = load(server, body, args.seconds, CONNECTIONS)
                        observed |= {f"{scenario} {key}": value for key, value in numbers.items()}
                    observed["RSS after load MB"] = round(rss_bytes(server.pid) / 2**20, 1)
            for key, value in observed.items():
                samples[name].setdefault(key, []).append(value)
    spreads = {name: {key: {"median": round(statistics.median(values), 2), "min": min(values),
                            "max": max(values), "samples": values} for key, values in metrics.items()}
               for name, metrics in samples.items()}  # fmt: skip
    load_ = {"rounds": args.rounds, "seconds": args.seconds, "connections": CONNECTIONS,
             "server_cores": ",".join(_SERVER_CORES) or "any", "wrk_threads": 1}  # fmt: skip
    image = args.image or "not measured: no image given (`make image`, then BENCH_IMAGE=<its reference>)"
    return {"machine": machine(), "command": make_run_command(8000)[-1], "load": load_, "image": image,
            "metrics": spreads, "targets": targets(samples)}  # fmt: skip


def targets(samples: dict[str, dict[str, list[float]]]) -> list[dict[str, Any]]:
    """Each target on the median of the per-round ratios: a round's pair ran under the same machine load."""
    checks = []
    for server, metric, higher_is_better, target in TARGETS:
        ours, theirs = samples.get(server, {}).get(metric), samples.get(BASELINE[server], {}).get(metric)
        if ours and theirs:
            ratio = statistics.median(mine / other for mine, other in zip(ours, theirs, strict=True))
            met = ratio >= target if higher_is_better else ratio <= target
            verdict = f"{ratio:.2f}x (target {target}x: {'met' if met else 'NOT met'})"
            checks.append({"server": server, "metric": metric, "ratio": round(ratio, 2), "target": target,
                           "met": met, "verdict": verdict})  # fmt: skip
    return checks


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    return {"cpu": models[0] if models else platform.processor(), "cores": os.cpu_count(),
            "python": platform.python_version(), "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}  # fmt: skip


def render(report: dict[str, Any]) -> str:
    """The report as Markdown: the table, the targets, where and how it was measured."""

    def cell(figures: dict[str, Any]) -> str:
        return f"{figures['median']:,g} ({figures['min']:,g}-{figures['max']:,g})"

    rows = []
    verdicts = {(check["server"], check["metric"]): check["verdict"] for check in report["targets"]}
    for server in ("service", "image"):
        for metric, figures in report["metrics"].get(server, {}).items():
            verdict = verdicts.get((server, metric), "")
            baseline = report["metrics"][BASELINE[server]][metric]
            rows.append((f"{server}: {metric}", cell(figures), cell(baseline), verdict))
    host, load_ = report["machine"], report["load"]
    where = (
        f"`make bench` of {host['date']} on {host['cpu']}, {host['cores']} cores, "
        f"Python {host['python']}, Linux {host['kernel']}; {load_['rounds']} interleaved rounds of "
        f"{load_['seconds']:g} s per scenario, {load_['connections']} connections, server on cores "
        f"{load_['server_cores']}. Median (min-max) of the rounds; the ratio is the median of the "
        f"per-round ratios. Service: `{report['command']}`; the image's row is against FastAPI started by "
        f"the same runtime in the same container."
    )
    lines = [where, "", markdown_table(("metric", "ours", "bare FastAPI", "ours / FastAPI"), rows)]
    if "image" not in report["metrics"]:
        lines += ["", f"Image entrypoint: {report['image']}."]
    return "\n".join(lines)


def rewrite_readme(report_path: Path, readme: Path) -> None:
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        msg = f"{readme}: no section between {README_START!r} and {README_END!r}"
        raise SystemExit(msg)
    table = render(json.loads(report_path.read_text(encoding="utf-8")))
    write_atomic(readme, f"{text[: start + len(README_START)]}\n{table}\n{text[end:]}")
    print(f"rewrote the bench table of {readme} from {report_path}")  # noqa: T201


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "build" / "bench.json", help="JSON report")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per scenario and round")
    parser.add_argument("--image", default="", help="a buildah image of the service to cold-start too")
    parser.add_argument("--readme", action="store_true", help="only rewrite README.md's table from --output")
    args = parser.parse_args()
    if args.readme:
        rewrite_readme(args.output, REPO_ROOT / "README.md")
        return 0
    if _SERVER_CORES:
        os.sched_setaffinity(0, {_CORES[-1]})  # wrk inherits it
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch, contextlib.ExitStack() as stack:
        report = benchmark(args, Path(scratch), stack)
    print(render(report))  # noqa: T201
    write_json(args.output, report)
    print(f"wrote {args.output}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
