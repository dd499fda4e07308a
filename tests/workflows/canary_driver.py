"""``python -m tests.workflows.canary_driver TRAFFIC_JSON DEPLOY_ARGS...``: the deploy, as the workflow runs
it, for an environment with traffic steps: the environment's configuration gains ``TRAFFIC_JSON`` and the
synthesized manifests a ``<name>-canary`` Deployment at zero replicas (the shape of the EKS rendering)."""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from pathlib import Path

import yaml

import tools.deploy.__main__ as deploy
from tools.deploy import inputs


@dataclasses.dataclass(frozen=True)
class Traffic:
    steps: tuple[int, ...]
    step_seconds: float
    max_error_rate: float
    max_p99_ms: float
    min_requests: int


def main() -> int:
    traffic = Traffic(**{**json.loads(sys.argv[1]), "steps": tuple(json.loads(sys.argv[1])["steps"])})
    read_environment, read_manifests = inputs._read_environment, deploy.read_manifests  # noqa: SLF001

    def with_traffic(environment: str) -> inputs.Target:
        return dataclasses.replace(read_environment(environment), traffic=traffic)

    def with_canary(folder: Path) -> deploy.Manifests:
        [path] = [path for path in folder.glob("*.yaml") if "\nkind: Deployment\n" in path.read_text()]
        canary = copy.deepcopy(yaml.safe_load(path.read_text()))
        canary["metadata"]["name"] += "-canary"
        canary["spec"]["replicas"] = 0
        (folder / f"{path.stem}-canary.yaml").write_text(yaml.safe_dump(canary))
        return read_manifests(folder)

    inputs._read_environment = with_traffic  # noqa: SLF001
    deploy.read_manifests = with_canary
    return deploy.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
