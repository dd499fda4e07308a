"""The deploy's canary release against stand-in aws and kubectl: the step engine with its ALB adapter
(listener weights, CloudWatch per target group) and the cluster's stable and canary Deployments, on
prod's real [traffic], [terraform_outputs] and synthesized manifests; only each step is held seconds."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from manifests_py.config import load_environment
from manifests_py.props import Traffic
from tests.workflows.conftest import COMMIT, Sandbox, index_of, load_workflow
from tests.workflows.test_deploy_script import PROD, _inputs
from tools.deploy import alb
from tools.deploy.canary import AnalysisFailed, StepEngine, Window

pytestmark = pytest.mark.slow

OUTPUTS = PROD["terraform_outputs"]
STABLE_GROUP, CANARY_GROUP = OUTPUTS["target_group_arn"], OUTPUTS["canary_target_group_arn"]
STEPS, MIN_REQUESTS = PROD["traffic"]["steps"], PROD["traffic"]["min_requests"]
SERVING = {"predictor": "3 3"}  # desired, ready


def _release(sandbox: Sandbox, step_seconds: int = 1, **scenario: object) -> subprocess.CompletedProcess[str]:
    sandbox.scenario(image_exists=True, **scenario)
    sandbox.env.update(_inputs())
    return sandbox.run(str(step_seconds), "release", module="tests.workflows.canary_driver")


def _canary_weights(sandbox: Sandbox) -> list[int]:
    """The canary's weight at each listener change, checking each change sends the rest to stable."""
    weights = []
    for call in sandbox.calls("aws"):
        if call["argv"][:2] == ["elbv2", "modify-listener"]:
            actions = json.loads(call["argv"][call["argv"].index("--default-actions") + 1])
            groups = {g["TargetGroupArn"]: g["Weight"] for g in actions[0]["ForwardConfig"]["TargetGroups"]}
            assert groups[STABLE_GROUP] + groups[CANARY_GROUP] == 100
            weights.append(groups[CANARY_GROUP])
    return weights


def _applied(sandbox: Sandbox, kind: str) -> list[list[str]]:
    """For each kubectl apply that applied objects of ``kind``, their names."""
    applied = [
        sorted(
            doc["metadata"]["name"]
            for text in call["applied"].values()
            for doc in yaml.safe_load_all(text)
            if doc and doc["kind"] == kind
        )
        for call in sandbox.calls("kubectl")
        if call["argv"][0] == "apply"
    ]
    return [names for names in applied if names]


def _applied_deployments(sandbox: Sandbox) -> list[list[str]]:
    return _applied(sandbox, "Deployment")


def _patches(sandbox: Sandbox) -> list[tuple[str, dict]]:
    """(what was patched, its spec patch) for each kubectl patch, in order."""
    return [
        (call["argv"][1], json.loads(call["argv"][call["argv"].index("--patch") + 1])["spec"])
        for call in sandbox.calls("kubectl")
        if call["argv"][0] == "patch"
    ]


def _scaled(sandbox: Sandbox) -> list[tuple[str, int]]:
    """(Deployment, replicas) for each change of a Deployment's replica count, in order."""
    return [(target, spec["replicas"]) for target, spec in _patches(sandbox) if "replicas" in spec]


def _assert_rolled_back(sandbox: Sandbox) -> None:
    commands = sandbox.commands()
    weights_back = max(i for i, c in enumerate(commands) if "modify-listener" in c)
    scaled_down = max(i for i, c in enumerate(commands) if c.startswith("kubectl patch"))
    assert _scaled(sandbox)[-1] == ("deployment/predictor-canary", 0)
    assert _canary_weights(sandbox)[-1] == 0
    assert weights_back < scaled_down, "the weights go back before the canary is scaled down"
    restored = max(i for i, c in enumerate(commands) if c.startswith("kubectl apply"))
    assert scaled_down < restored, "the autoscaler gets its own minimum back"
    assert _applied(sandbox, "HorizontalPodAutoscaler")[-1] == ["predictor"]
    assert _applied_deployments(sandbox) == [["predictor-canary"]], "the stable Deployment was never touched"
    assert not sandbox.calls("curl")


def test_a_healthy_canary_is_promoted_step_by_step(sandbox):
    result = _release(sandbox, replicas=SERVING)

    assert result.returncode == 0, result.stderr
    assert _canary_weights(sandbox) == [*STEPS, 0]
    commands = sandbox.commands()
    # the canary (everything but the stable Deployment) first, scaled to the last step's share of 3, rounded
    # up, and ready
    replicas = -(-3 * STEPS[-1] // 100)
    assert _scaled(sandbox) == [("deployment/predictor-canary", replicas), ("deployment/predictor-canary", 0)]
    scale_up = index_of(commands, "kubectl patch deployment/predictor-canary")
    ready = index_of(commands[scale_up:], "rollout status deployment/predictor-canary") + scale_up
    assert index_of(commands, "kubectl apply") < scale_up < ready < index_of(commands, "modify-listener")
    assert _applied_deployments(sandbox) == [["predictor-canary"], ["predictor"]]
    promoted = index_of(commands, "rollout status deployment/predictor --namespace")
    weights_back = max(i for i, c in enumerate(commands) if "modify-listener" in c)
    scaled_down = max(i for i, c in enumerate(commands) if c.startswith("kubectl patch"))
    assert promoted < weights_back < scaled_down < index_of(commands, "curl")
    # the stable keeps its size while the canary takes a share, and gets its autoscaler's minimum back after
    assert _patches(sandbox)[0] == ("--filename", {"minReplicas": 3})
    assert commands.index(next(c for c in commands if "minReplicas" in c)) < scale_up
    assert _applied(sandbox, "HorizontalPodAutoscaler") == [["predictor"], ["predictor"]]
    restored = max(i for i, c in enumerate(commands) if c.startswith("kubectl apply"))
    assert scaled_down < restored < index_of(commands, "curl")
    # CloudWatch was read for the canary target group of the listener's load balancer
    read = next(c for c in sandbox.calls("aws") if c["argv"][:2] == ["cloudwatch", "get-metric-data"])
    queries = json.loads(read["argv"][read["argv"].index("--metric-data-queries") + 1])
    dimensions = {d["Name"]: d["Value"] for d in queries[0]["MetricStat"]["Metric"]["Dimensions"]}
    assert (
        dimensions
        == {
            "TargetGroup": CANARY_GROUP.split(":")[-1],  # targetgroup/NAME/ID
            "LoadBalancer": "/".join(OUTPUTS["https_listener_arn"].split("/")[1:4]),  # app/NAME/ID
        }
    )
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in queries} == {
        "RequestCount",
        "HTTPCode_Target_5XX_Count",
        "TargetConnectionErrorCount",
        "TargetResponseTime",
    }


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({"requests": 200, "errors": 10, "p99_seconds": 0.05}, "error rate 5.0% (10 of 200 canary requests"),
        ({"requests": 200, "errors": 0, "p99_seconds": 0.8}, "p99 latency 800 ms is over max_p99_ms 250 ms"),
        # a canary that answers nothing: the load balancer's 502s are its connection errors
        (
            {"requests": 200, "errors": 2, "connection_errors": 8, "p99_seconds": 0.05},
            "error rate 5.0% (10 of 200 canary requests",
        ),
    ],
)
def test_a_broken_limit_rolls_back_at_once_and_fails_naming_it(sandbox, metrics, message):
    started = time.monotonic()
    result = _release(sandbox, step_seconds=60, replicas=SERVING, canary_metrics=[metrics])

    assert result.returncode == 1
    assert "canary analysis failed at step 1 (10%)" in result.stderr
    assert message in result.stderr
    _assert_rolled_back(sandbox)
    assert _canary_weights(sandbox) == [10, 0]
    # fail fast: judged on the first reading, long before the 60 s step would have ended
    assert len([c for c in sandbox.commands() if "get-metric-data" in c]) == 1
    assert time.monotonic() - started < 60


def test_too_few_canary_requests_fail_the_step_instead_of_promoting_blind(sandbox):
    result = _release(
        sandbox, replicas=SERVING, canary_metrics=[{"requests": 7, "errors": 0, "p99_seconds": 0.01}]
    )

    assert result.returncode == 1
    assert f"7 canary requests in the step, fewer than min_requests {MIN_REQUESTS}" in result.stderr
    _assert_rolled_back(sandbox)


def test_a_first_release_goes_out_whole(sandbox):
    result = _release(sandbox, replicas={})

    assert result.returncode == 0, result.stderr
    assert "first release goes out whole" in result.stdout
    assert _canary_weights(sandbox) == []
    assert _applied_deployments(sandbox) == [["predictor", "predictor-canary"]]


def _release_step(sandbox: Sandbox, step_seconds: int) -> list[str]:
    """The workflow's release step as the runner starts it: bash running a file holding the step's script
    (`bash -c` would exec a lone command itself and hide a missing `exec`), the deploy swapped for the
    driver that holds each step ``step_seconds``."""
    job = load_workflow("deploy.yml")["jobs"]["deploy"]
    (script,) = [step["run"] for step in job["steps"] if step.get("id") == "release"]
    deploy = ".venv/bin/python -m tools.deploy"
    assert deploy in script
    driver = f"{sys.executable} -m tests.workflows.canary_driver {step_seconds}"
    step = sandbox.root / "release-step.sh"
    step.write_text(script.replace(deploy, driver), encoding="utf-8")
    return [shutil.which("bash") or "bash", "--noprofile", "--norc", "-eo", "pipefail", str(step)]


def test_a_cancelled_release_step_puts_the_weights_back_and_the_canary_to_zero(sandbox):
    sandbox.scenario(image_exists=True, replicas=SERVING)
    sandbox.env.update(_inputs())
    process = subprocess.Popen(
        _release_step(sandbox, 120),
        env=sandbox.env,
        cwd=sandbox.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, so a deploy the signals missed is killed after
    )
    try:
        deadline = time.monotonic() + 60
        while not any("get-metric-data" in c for c in sandbox.commands()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        # What the runner does to a cancelled job's step: SIGINT to the step's process (the shell it
        # started, never its children), then SIGTERM 7.5 s later.
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=7.5)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    assert "cancelled by SIGINT" in stderr, "the signal must reach the deploy, not stop at the step's shell"
    assert process.returncode == 1
    _assert_rolled_back(sandbox)
    assert _canary_weights(sandbox) == [10, 0]


def test_a_release_cancelled_while_promoting_returns_the_stable_deployment_to_the_serving_revision(sandbox):
    sandbox.scenario(image_exists=True, replicas=SERVING, rollout_hangs="deployment/predictor")
    sandbox.env.update(_inputs())
    argv = [sys.executable, "-m", "tests.workflows.canary_driver", "0", "release"]
    process = subprocess.Popen(
        argv, env=sandbox.env, cwd=sandbox.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not any(c.startswith("kubectl rollout status deployment/predictor ") for c in sandbox.commands()):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 1
    assert time.monotonic() - started < 10, "the hanging rollout wait did not hold the cancellation back"
    assert "cancelled by SIGTERM" in stderr
    assert "deployment/predictor in namespace predictor is rolling back to revision 3" in stderr
    assert _applied_deployments(sandbox) == [["predictor-canary"], ["predictor"]]
    commands = sandbox.commands()
    undo = index_of(commands, "kubectl rollout undo deployment/predictor ")
    assert "--to-revision=3" in commands[undo]
    assert undo > index_of(commands, "modify-listener")
    assert _canary_weights(sandbox)[-1] == 0
    assert _scaled(sandbox)[-1] == ("deployment/predictor-canary", 0)
    assert not sandbox.calls("curl"), stdout


def test_abort_is_idempotent_and_needs_no_image(sandbox):
    sandbox.scenario(replicas={"predictor-canary": "2 1"})
    sandbox.env.update({k: v for k, v in _inputs().items() if k != "IMAGE_TAG"})

    first = sandbox.run("abort")
    assert first.returncode == 0, first.stderr
    assert _canary_weights(sandbox) == [0]
    assert _scaled(sandbox) == [("deployment/predictor-canary", 0)]
    assert _applied(sandbox, "HorizontalPodAutoscaler") == [["predictor"]], "its own minimum back"

    sandbox.scenario(replicas={"predictor-canary": "0 0"})
    again = sandbox.run("abort")
    assert again.returncode == 0, again.stderr
    assert _canary_weights(sandbox) == [0, 0]
    assert len(_scaled(sandbox)) == 1, "nothing left to scale down"
    assert COMMIT not in "".join(sandbox.commands())


def test_a_listener_that_cannot_be_moved_fails_the_release_and_says_the_rollback_is_incomplete(sandbox):
    result = _release(sandbox, replicas=SERVING, weights_fail=True)

    assert result.returncode == 1
    assert "AccessDenied" in result.stderr
    assert "ROLLBACK INCOMPLETE (run the abort command): weights:" in result.stdout
    assert "the canary keeps running" in result.stdout
    # every attempt failed (the first shift, then the rollback's three); the canary keeps serving the share
    # the listener still sends it instead of a group with no pods answering it with errors
    assert _canary_weights(sandbox) == [10, 0, 0, 0]
    assert [replicas for _, replicas in _scaled(sandbox)] == [2], "the canary was never scaled down"
    assert not sandbox.calls("curl")


def test_a_canary_left_up_after_a_promotion_warns_instead_of_undoing_the_release(sandbox):
    result = _release(sandbox, replicas=SERVING, scale_down_fails=True)

    assert result.returncode == 0, result.stderr
    assert "promoted, but the canary was not scaled to zero (run the abort command)" in result.stdout
    assert _canary_weights(sandbox) == [*STEPS, 0]
    commands = sandbox.commands()
    failed_scale_down = max(i for i, c in enumerate(commands) if c.startswith("kubectl patch deployment/"))
    restored = max(i for i, c in enumerate(commands) if c.startswith("kubectl apply"))
    assert failed_scale_down < restored, "the autoscaler's own minimum is back all the same"
    assert _applied(sandbox, "HorizontalPodAutoscaler")[-1] == ["predictor"]
    assert not any("rollout undo" in command for command in sandbox.commands())
    assert sandbox.calls("curl"), "the release went on to its smoke test"


def _minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def test_a_step_is_judged_once_cloudwatch_has_its_last_full_minute(sandbox, monkeypatch, capsys):
    sandbox.scenario(cloudwatch_lag=[3, 2, 1])
    for name, value in sandbox.env.items():  # the adapter runs here, its aws the stand-in
        monkeypatch.setenv(name, value)
    outputs = load_environment("prod").terraform_outputs
    five_minutes_in = datetime.now(UTC) - timedelta(minutes=5)
    # Lag 1 is the boundary: the minute before the step's end is published. A minute turning between the
    # adapter's clock and the stand-in's would shift the lags by one: then the run is made again.
    for _attempt in range(2):
        minute = _minute()
        sandbox.scenario(cloudwatch_lag=[3, 2, 1])
        Path(sandbox.env["STAND_IN_STATE"]).unlink(missing_ok=True)
        listener = alb.WeightedListener(outputs, start=five_minutes_in)
        answers = [listener.settled() for _ in range(3)]
        if _minute() == minute:
            break
    assert answers == [False, False, True]
    argv = sandbox.calls("aws")[-1]["argv"]
    query = json.loads(argv[argv.index("--metric-data-queries") + 1])
    dimensions = query[0]["MetricStat"]["Metric"]["Dimensions"]
    assert [d["Name"] for d in dimensions] == ["LoadBalancer"], "the load balancer's count, always published"

    sandbox.scenario(cloudwatch_lag=[3])  # never catches up: bounded, then judged on what there is
    monkeypatch.setattr(alb, "SETTLE_TIMEOUT_SECONDS", 0)
    assert alb.WeightedListener(outputs, start=five_minutes_in).settled()
    assert "judging what it has" in capsys.readouterr().out


class _Recording:
    """A split and workloads that record the engine's calls; settled after ``settle_after`` asks."""

    def __init__(self, settle_after: int, window_after_time: Window) -> None:
        self.calls: list[str] = []
        self.settle_after, self.window_after_time = settle_after, window_after_time

    def shift(self, percent: int) -> None:
        self.calls.append(f"shift {percent}")

    def open_window(self) -> None:
        self.calls.append("open")

    def settled(self) -> bool:
        self.calls.append("settled?")
        return self.calls.count("settled?") > self.settle_after

    def read(self) -> Window:
        self.calls.append("read")
        asked = "settled?" in self.calls
        return self.window_after_time if asked else Window(requests=1000, errors=0, p99_ms=10)

    def start_canary(self) -> None:
        self.calls.append("start")

    def promote(self) -> None:
        self.calls.append("promote")

    def stop_canary(self) -> None:
        self.calls.append("stop")


def _engine(recording: _Recording) -> StepEngine:
    traffic = Traffic(steps=(10,), step_seconds=1, max_error_rate=0.01, max_p99_ms=100, min_requests=10)
    return StepEngine(traffic=traffic, split=recording, workloads=recording, say=print, poll_seconds=0.3)


def test_past_its_time_a_step_is_judged_until_its_end_is_published():
    healthy = _Recording(settle_after=2, window_after_time=Window(requests=1000, errors=0, p99_ms=10))
    _engine(healthy).run()
    step = healthy.calls[healthy.calls.index("shift 10") : healthy.calls.index("promote")]
    assert step[-2:] == ["settled?", "read"], step
    assert step.count("settled?") == 3
    assert step.count("read") > 3, "the limits were judged while waiting"

    # an error spike published while waiting rolls back at once, without waiting for the end
    erring = _Recording(settle_after=100, window_after_time=Window(requests=1000, errors=50, p99_ms=10))
    with pytest.raises(AnalysisFailed, match=r"error rate 5\.0%"):
        _engine(erring).run()
    assert erring.calls.count("settled?") == 1
    assert "promote" not in erring.calls
