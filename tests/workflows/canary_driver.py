"""``python -m tests.workflows.canary_driver STEP_SECONDS DEPLOY_ARGS...``: the deploy as the workflow runs
it, on the real environment and manifests, but with each canary step held STEP_SECONDS, not minutes (and
the synthesis shared as deploy_driver shares it)."""

from __future__ import annotations

import dataclasses
import sys

import tools.deploy.__main__ as deploy
from tests.workflows.deploy_driver import memoize_synthesis
from tools.deploy import inputs


def main() -> int:
    read_environment, step_seconds = inputs._read_environment, float(sys.argv[1])  # noqa: SLF001

    def quick(environment: str) -> inputs.Target:
        target = read_environment(environment)
        assert target.traffic is not None  # every environment has [traffic]
        return dataclasses.replace(
            target, traffic=target.traffic.model_copy(update={"step_seconds": step_seconds})
        )

    inputs._read_environment = quick  # noqa: SLF001
    memoize_synthesis()
    return deploy.main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
