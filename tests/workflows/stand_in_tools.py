"""Stand-ins for the CLIs the pipeline scripts drive (aws, docker, make, kubectl, curl, gh, terraform, helm).

``install(bin_dir, ...)`` writes one small executable per tool into ``bin_dir``; each runs this file with
the tool's name. Every call is appended to a JSON-lines log (argv, stdin, KUBECONFIG, and for
``kubectl apply`` the text of each applied file, since the deploy script deletes its work directory), and
answers as the scenario JSON file says. State that must survive between calls (was the image pushed, how
many ``rollout status`` calls so far) lives in a state file next to the log.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

TOOLS = ("aws", "docker", "make", "kubectl", "curl", "gh", "terraform", "helm")
DIGEST = "sha256:" + "d" * 64


def install(bin_dir: Path, *, scenario: dict, tools: tuple[str, ...] = TOOLS) -> dict[str, str]:
    """Write the stand-ins; return the environment variables that wire them to the scenario and log."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    work = bin_dir.parent
    scenario_file = work / "scenario.json"
    scenario_file.write_text(json.dumps(scenario), encoding="utf-8")
    for tool in tools:
        path = bin_dir / tool
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{__file__}" {tool} "$@"\n', encoding="utf-8")
        path.chmod(0o755)
    return {
        "STAND_IN_SCENARIO": str(scenario_file),
        "STAND_IN_LOG": str(work / "calls.jsonl"),
        "STAND_IN_STATE": str(work / "state.json"),
    }


def read_calls(environ: dict[str, str]) -> list[dict]:
    log = Path(environ["STAND_IN_LOG"])
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


# ---------------------------------------------------------------------------------------------- behaviour


class _State:
    def __init__(self) -> None:
        self.path = Path(os.environ["STAND_IN_STATE"])
        self.data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}

    def bump(self, key: str) -> int:
        self.data[key] = self.data.get(key, 0) + 1
        self.path.write_text(json.dumps(self.data), encoding="utf-8")
        return self.data[key]


def _option(argv: list[str], name: str) -> str | None:
    for index, item in enumerate(argv):
        if item == name and index + 1 < len(argv):
            return argv[index + 1]
        if item.startswith(f"{name}="):
            return item.split("=", 1)[1]
    return None


def _out(text: str) -> int:
    sys.stdout.write(text + "\n")
    return 0


def _fail(message: str, code: int = 1) -> int:
    sys.stderr.write(message + "\n")
    return code


def _describe_images(argv: list[str], scenario: dict, state: _State) -> int:
    del argv
    if scenario.get("image_exists") or state.data.get("pushed"):
        return _out(json.dumps({"imageDetails": [{"imageDigest": DIGEST, "imageTags": ["x"]}]}))
    return _fail(
        "An error occurred (ImageNotFoundException) when calling the DescribeImages operation: not found", 254
    )


def _scan_wait(argv: list[str], scenario: dict, state: _State) -> int:
    del argv, state
    if scenario.get("scan_wait_fails"):
        return _fail("Waiter ImageScanComplete failed: Max attempts exceeded", 255)
    return 0


def _scan_findings(argv: list[str], scenario: dict, state: _State) -> int:
    del argv, state
    counts = scenario.get("scan_counts", {})
    package = [{"key": "package_name", "value": "openssl"}, {"key": "package_version", "value": "3.0.0"}]
    findings = [
        {"name": f"CVE-2099-{index:04d}", "severity": severity, "attributes": package}
        for severity, count in counts.items()
        for index in range(count)
    ]
    report = {
        "imageScanStatus": {"status": scenario.get("scan_status", "COMPLETE")},
        "imageScanFindings": {"findingSeverityCounts": counts, "findings": findings},
    }
    return _out(json.dumps(report))


def _update_kubeconfig(argv: list[str], scenario: dict, state: _State) -> int:
    del scenario, state
    kubeconfig = _option(argv, "--kubeconfig")
    if kubeconfig is None:
        return _fail("stand-in aws: update-kubeconfig without --kubeconfig would edit ~/.kube/config")
    Path(kubeconfig).write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    return 0


def _docker_push(argv: list[str], scenario: dict, state: _State) -> int:
    del argv
    if scenario.get("push_fails"):
        return _fail("denied: push refused")
    state.data["pushed"] = True
    state.path.write_text(json.dumps(state.data), encoding="utf-8")
    return 0


def _kubectl_get(argv: list[str], scenario: dict, state: _State) -> int:
    del state
    if "readyReplicas" in (_option(argv, "--output") or ""):
        # "desired ready" for each Deployment; a canary not in the scenario has none
        sys.stdout.write(scenario.get("replicas", {}).get(argv[1].split("/")[-1], ""))
        return 0
    sys.stdout.write(scenario.get("revision", "3") or "")
    return 0


def _modify_listener(argv: list[str], scenario: dict, state: _State) -> int:
    del argv, state
    if scenario.get("weights_fail"):
        return _fail("An error occurred (AccessDenied) when calling the ModifyListener operation")
    return _out("{}")


def _metric_data(argv: list[str], scenario: dict, state: _State) -> int:
    """The canary's numbers, one entry of the scenario's list per call (the last one repeats); the per-minute
    request count ("minutes") ends ``cloudwatch_lag`` minutes before now, one entry per such call."""
    queries = json.loads(argv[argv.index("--metric-data-queries") + 1])
    start = argv[argv.index("--start-time") + 1]
    if [query["Id"] for query in queries] == ["minutes"]:
        lags = scenario.get("cloudwatch_lag", [0])
        lag = lags[min(state.bump("minutes"), len(lags)) - 1]
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        stamps = [(now - timedelta(minutes=lag + back)).isoformat() for back in range(3)]
        results = [{"Id": "minutes", "Timestamps": stamps, "Values": [100.0] * len(stamps)}]
        return _out(json.dumps({"MetricDataResults": results, "Messages": []}))
    answers = scenario.get("canary_metrics", [{"requests": 1000, "errors": 0, "p99_seconds": 0.05}])
    answer = answers[min(state.bump("get_metric_data"), len(answers)) - 1]
    values = {
        "requests": [answer["requests"]],
        "errors": [answer["errors"]],
        "connection_errors": [answer.get("connection_errors", 0)],
        "p99": [answer["p99_seconds"]] if answer["requests"] else [],
    }
    results = [
        {"Id": key, "Timestamps": [start] * len(series), "Values": series} for key, series in values.items()
    ]
    return _out(json.dumps({"MetricDataResults": results, "Messages": []}))


def _kubectl_apply(argv: list[str], scenario: dict, state: _State) -> int:
    del argv, state
    if scenario.get("apply_fails"):
        return _fail(
            'Error from server (Forbidden): targetgroupbindings.elbv2.k8s.aws "predictor" is forbidden'
        )
    return _out("deployment.apps/predictor configured")


def _rollout_status(argv: list[str], scenario: dict, state: _State) -> int:
    if argv[2] == scenario.get("rollout_hangs"):  # e.g. "deployment/predictor": waits until killed
        time.sleep(300)
    results = scenario.get("rollout_status", [0])
    call = state.bump("rollout_status") - 1
    if results[min(call, len(results) - 1)]:
        return _fail('error: deployment "predictor" exceeded its progress deadline')
    return _out('deployment "predictor" successfully rolled out')


def _kubectl_patch(argv: list[str], scenario: dict, state: _State) -> int:
    del state
    replicas = json.loads(argv[argv.index("--patch") + 1])["spec"].get("replicas")
    if scenario.get("scale_down_fails") and replicas == 0:
        return _fail("Error from server (ServiceUnavailable): the server is currently unable to handle it")
    return _out(f"deployment.apps/{argv[1].split('/')[-1]} patched")


def _curl(argv: list[str], scenario: dict, state: _State) -> int:
    del state
    url = argv[-1]
    bodies = scenario.get("bodies", {"/health": '{"status":"ok"}', "/predict": '{"score":0.75}'})
    for path, body in bodies.items():
        if url.endswith(path):
            sys.stdout.write(body)
            return 0
    return _fail(f"curl: (22) no stand-in answer for {url}", 22)


def _gh(argv: list[str], scenario: dict, state: _State) -> int:
    del argv, state
    if scenario.get("gh_fails"):
        return _fail("HTTP 403: Resource not accessible by integration")
    return _out("{}")


def _terraform(argv: list[str], scenario: dict, state: _State) -> int:
    del state
    command = [item for item in argv if not item.startswith("-")][:1]
    if command == ["plan"]:
        if scenario.get("plan_fails"):
            return _fail("Error: reading S3 bucket: AccessDenied")
        Path(_option(argv, "-out") or "tfplan").write_text("stand-in plan", encoding="utf-8")
        return _out("Plan: 1 to add, 0 to change, 0 to destroy.")
    if command == ["show"]:
        return _out(json.dumps({"format_version": "1.2", "resource_changes": []}))
    if command == ["output"]:
        return _out(json.dumps(scenario.get("outputs", {})))
    return 0


def _helm(argv: list[str], scenario: dict, state: _State) -> int:
    del state
    if argv[2:3] == [scenario.get("helm_fails")]:
        return _fail(f"Error: UPGRADE FAILED: context deadline exceeded ({argv[2]})")
    return _out(f'Release "{argv[2]}" has been upgraded. Happy Helming!')


def _make(argv: list[str], scenario: dict, state: _State) -> int:
    del argv, state
    return 1 if scenario.get("build_fails") else 0


def _succeed(argv: list[str], scenario: dict, state: _State) -> int:
    del argv, scenario, state
    return 0


# (tool, leading arguments) -> handler; the longest matching prefix wins.
_HANDLERS = {
    ("aws", "ecr", "describe-images"): _describe_images,
    ("aws", "ecr", "get-login-password"): lambda *_: _out("stand-in-ecr-password"),
    ("aws", "ecr", "wait"): _scan_wait,
    ("aws", "ecr", "describe-image-scan-findings"): _scan_findings,
    ("aws", "eks", "update-kubeconfig"): _update_kubeconfig,
    ("aws", "elbv2", "modify-listener"): _modify_listener,
    ("aws", "cloudwatch", "get-metric-data"): _metric_data,
    ("docker", "push"): _docker_push,
    ("kubectl", "get"): _kubectl_get,
    ("kubectl", "apply"): _kubectl_apply,
    ("kubectl", "rollout", "status"): _rollout_status,
    ("kubectl", "wait"): _succeed,
    ("kubectl", "patch"): _kubectl_patch,
    ("kubectl", "rollout", "undo"): lambda *_: _out("deployment.apps/predictor rolled back"),
    ("curl",): _curl,
    ("gh",): _gh,
    ("terraform",): _terraform,
    ("helm", "upgrade"): _helm,
    ("make",): _make,
}


def _docker_login(stdin: str) -> int:
    return 0 if stdin.strip() == "stand-in-ecr-password" else _fail("login: no password on stdin")


def main() -> int:
    tool, argv = sys.argv[1], sys.argv[2:]
    scenario = json.loads(Path(os.environ["STAND_IN_SCENARIO"]).read_text(encoding="utf-8"))
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    record: dict = {"tool": tool, "argv": argv, "stdin": stdin, "kubeconfig": os.environ.get("KUBECONFIG")}
    if tool == "kubectl" and argv[:1] == ["apply"]:
        files = [argv[index + 1] for index, item in enumerate(argv) if item == "--filename"]
        record["applied"] = {Path(name).name: Path(name).read_text(encoding="utf-8") for name in files}
    with Path(os.environ["STAND_IN_LOG"]).open("a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")
    if (tool, *argv[:1]) == ("docker", "login"):
        return _docker_login(stdin)
    call = (tool, *argv)
    for length in (3, 2, 1):
        handler = _HANDLERS.get(call[:length])
        if handler is not None:
            return handler(argv, scenario, _State())
    return _fail(f"stand-in {tool}: unexpected call {argv}")


if __name__ == "__main__":
    sys.exit(main())
