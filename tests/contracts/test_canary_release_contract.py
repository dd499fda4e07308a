"""The release moves what dist/ binds: in each EKS environment, the Deployments the deploy finds by track in
dist/ are the ones the construct names stable and canary, and the listener weights and CloudWatch dimension
the deploy sends name the target groups dist/ binds to each track's pods.

Both sides are read: the deploy's through its own code (its manifest reader, its environment reader and the
commands its ALB adapter runs, captured instead of run), dist/ from the committed files. Every check also
fails on a copy broken in the way it exists to catch.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from manifests_py.config import load_environment
from manifests_py.knative_like import CANARY, STABLE, TRACK_LABEL, canary_name
from manifests_py.props import ServiceProps, Target
from manifests_py.renderings import service_props
from manifests_py.service_card import load_service_card
from tests.contracts.test_canary_traffic_contract import check_folder, folders
from tools.common import REPO_ROOT
from tools.deploy import alb, inputs
from tools.deploy.cluster import read_manifests

ENVIRONMENTS = ("dev", "prod")
SHARE = 10  # the canary's weight in the shift captured


def props(environment: str) -> ServiceProps:
    return service_props(load_service_card(), load_environment(environment), target=Target.EKS)


def check_tracks(folder: Path, expected: ServiceProps) -> None:
    """The deploy finds one Deployment per track in ``folder``, named as the construct names them."""
    manifests = read_manifests(folder)
    names = {workload.track: workload.name for workload in manifests.workloads}
    assert len(names) == len(manifests.workloads), f"two Deployments of one track in {folder}: {names}"
    assert names == {STABLE: expected.name, CANARY: canary_name(expected)}


def released(environment: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], str]:
    """The target group the deploy weighs for each track, and the TargetGroup dimension it reads."""
    commands: list[list[str]] = []
    metrics = alb._METRICS  # noqa: SLF001
    answer = {"MetricDataResults": [{"Id": key, "Values": [], "Timestamps": []} for key, _, _ in metrics]}

    def record(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, json.dumps(answer), "")

    monkeypatch.setattr(alb, "sh", record)
    outputs = inputs._read_environment(environment).outputs  # noqa: SLF001 -- the deploy's one reader
    assert outputs is not None
    listener = alb.WeightedListener(outputs)
    listener.shift(SHARE)
    listener.read()
    shift, read = commands
    action = json.loads(shift[shift.index("--default-actions") + 1])
    weighed = {
        group["Weight"]: group["TargetGroupArn"] for group in action[0]["ForwardConfig"]["TargetGroups"]
    }
    queries = json.loads(read[read.index("--metric-data-queries") + 1])
    dimensions = {d["Name"]: d["Value"] for q in queries for d in q["MetricStat"]["Metric"]["Dimensions"]}
    return {STABLE: weighed[100 - SHARE], CANARY: weighed[SHARE]}, dimensions["TargetGroup"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_release_scales_the_deployments_the_construct_names(environment):
    check_tracks(REPO_ROOT / "dist" / environment, props(environment))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_release_weighs_and_judges_the_groups_dist_binds_to_each_track(environment, monkeypatch):
    groups, judged = released(environment, monkeypatch)
    check_folder(folders()[environment], {environment: groups})
    assert groups[CANARY].endswith(f":{judged}"), f"CloudWatch is read for {judged}, not the canary's group"


def _retrack(documents: list[dict], name: str, track: str | None) -> None:
    for document in documents:
        if document["kind"] == "Deployment" and document["metadata"]["name"] == name:
            labels = document["spec"]["template"]["metadata"]["labels"]
            labels.pop(TRACK_LABEL)
            if track is not None:
                labels[TRACK_LABEL] = track


def _rename(documents: list[dict], name: str, new_name: str) -> None:
    for document in documents:
        if document["kind"] == "Deployment" and document["metadata"]["name"] == name:
            document["metadata"]["name"] = new_name


@pytest.mark.parametrize(
    "break_it",
    [
        lambda docs, p: _retrack(docs, canary_name(p), None),
        lambda docs, p: _retrack(docs, canary_name(p), STABLE),
        lambda docs, p: _retrack(docs, p.name, CANARY),
        lambda docs, p: _rename(docs, canary_name(p), f"{p.name}-next"),
    ],
    ids=["canary-unlabelled", "canary-labelled-stable", "stable-labelled-canary", "canary-renamed"],
)
def test_the_track_check_fails_on_broken_manifests(tmp_path, break_it):
    expected = props("prod")
    for path in (REPO_ROOT / "dist" / "prod").glob("*.yaml"):
        documents = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
        break_it(documents, expected)
        (tmp_path / path.name).write_text(yaml.safe_dump_all(documents), encoding="utf-8")
    with pytest.raises(AssertionError):
        check_tracks(tmp_path, expected)


def test_the_group_check_fails_when_the_deploy_swaps_the_groups(monkeypatch):
    groups, _ = released("prod", monkeypatch)
    with pytest.raises(AssertionError):
        check_folder(folders()["prod"], {"prod": {STABLE: groups[CANARY], CANARY: groups[STABLE]}})
