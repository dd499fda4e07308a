"""Schemathesis against the real server, driven by the OpenAPI document that server publishes.

It runs schemathesis's own engine (``schemathesis run``): the document's examples, the coverage phase
(boundary and type-violating values for every schema), then random valid and invalid requests, with every
check enabled: no 5xx, only documented statuses, content types, headers and body schemas, invalid input
rejected with a 4xx and valid input accepted, a truthful ``Allow`` header. The server runs as in a cluster,
with an API key file: schemathesis sends the key, and its ``ignored_auth`` check proves that POST /predict
refuses requests without it or with a wrong one. Bounded by ``MAX_EXAMPLES``
per operation and a per-request timeout (a hang is an error), and the server's log must hold no 5xx.

Why the CLI and not the pytest plugin: schemathesis 4.32's lazy loader (``schemathesis.pytest.
from_fixture``, needed because the server only exists inside a fixture) sets ``request.node._nodeid``,
which pytest 9 no longer has. Set ``PROOFS_FUZZ_SEED`` to replay a run (the report records each seed).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from api.service_card import load_service_card
from tools.load.service import running_service

pytestmark = pytest.mark.slow

# Per operation; only the POST body is rich enough to use them all. About 600 cases in 10-20 s here;
# schemathesis 4.32 slows down sharply past that (1,000 took five minutes, mostly unique-input retries).
MAX_EXAMPLES = 500
REQUEST_TIMEOUT_SECONDS = 5  # a response slower than this counts as a hang, even on a busy machine
RUN_TIMEOUT_SECONDS = 300


def _schemathesis() -> list[str]:
    return [str(Path(sys.executable).with_name("schemathesis"))]


def test_every_response_conforms_to_the_published_document(tmp_path, publish):
    card = load_service_card()
    log = tmp_path / "service.log"
    reports = tmp_path / "reports"
    seed = os.environ.get("PROOFS_FUZZ_SEED")
    key = secrets.token_urlsafe(32)
    key_file = tmp_path / "api-keys"
    key_file.write_text(key + "\n", encoding="utf-8")
    with running_service(log, env={"PREDICTOR_API_KEYS_FILE": str(key_file)}) as service:
        command = [
            *_schemathesis(),
            "run",
            service.url + card.paths.openapi,
            f"--header=Authorization: Bearer {key}",
            "--checks=all",
            f"--max-examples={MAX_EXAMPLES}",
            f"--request-timeout={REQUEST_TIMEOUT_SECONDS}",
            "--workers=1",
            "--report=json",
            f"--report-dir={reports}",
            *([f"--seed={seed}"] if seed else []),
        ]
        # Run in tmp_path: schemathesis keeps its example database and crash cache in ./.schemathesis.
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
            env=_quiet_env(),
            cwd=tmp_path,
        )
        assert service.process.poll() is None, "the server died under fuzzing"
    report_files = sorted(reports.glob("json-*.json"))
    assert report_files, (
        f"schemathesis wrote no report (exit {completed.returncode}):\n{completed.stdout[-3000:]}"
    )
    run = json.loads(report_files[-1].read_text(encoding="utf-8"))
    cases = run["test_cases"]
    summary = (
        f"schemathesis: {cases['generated']} cases against {run['operations']['tested']} operations, "
        f"{cases['with_failures']} failing, {cases['errored']} errored, seed {run['seed']}, "
        f"{run['running_time']:.1f} s"
    )
    publish(
        "fuzz-openapi",
        {
            "command": " ".join(command[1:]).replace(key, "<key>"),
            "seed": run["seed"],
            "max_examples": MAX_EXAMPLES,
            "request_timeout_seconds": REQUEST_TIMEOUT_SECONDS,
            "phases": run["phases"],
            "test_cases": cases,
            "operations": run["operations"],
            "failures": run["failures"],
            "errors": run["errors"],
            "valid_rates": run["valid_rates"],
            "running_time_seconds": run["running_time"],
        },
        summary,
    )
    assert completed.returncode == 0, completed.stdout[-6000:]
    assert run["stop_reason"] == "completed"
    assert run["complete"]
    assert run["operations"]["tested"] == run["operations"]["total"] >= 5
    assert run["phases"]["coverage"]["status"] == "success"
    assert run["phases"]["fuzzing"]["status"] == "success"
    assert cases["generated"] >= MAX_EXAMPLES // 2, "the fuzzing must have had room to run"
    server_errors = [
        line
        for line in log.read_text(encoding="utf-8").splitlines()
        if '"status":5' in line or '"level":"error"' in line
    ]
    assert not server_errors, server_errors[:5]


def _quiet_env() -> dict[str, str]:
    # No colours or progress animation in captured output; no telemetry from a test run.
    return {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"}
