"""Session fixtures more than one suite reads: the service card, and the offline plan of infra/ (planned
once per session; the infrastructure and cross-layer contract suites both read it)."""

from __future__ import annotations

import json

import pytest

from tools.common import REPO_ROOT
from tools.infra import offline_plan, tfenv


@pytest.fixture(scope="session")
def service_card() -> dict:
    return json.loads((REPO_ROOT / "api" / "service.json").read_text())


@pytest.fixture(scope="session")
def terraform() -> str:
    """The terraform binary. Missing Terraform fails the infra tests: it is never a silent skip."""
    try:
        return tfenv.terraform_binary()
    except tfenv.TerraformEnvError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def plans(terraform) -> dict[str, dict]:  # noqa: ARG001 -- ensures terraform exists
    """Plan JSON of the root and bootstrap configurations against moto, written where make writes it."""
    out = tfenv.BUILD_DIR / "plan.json"
    bootstrap_out = tfenv.BUILD_DIR / "bootstrap-plan.json"
    try:
        root = offline_plan.offline_plan(out, bootstrap_out)
    except (tfenv.TerraformEnvError, offline_plan.aws_emulator.EmulatorError) as error:
        pytest.fail(str(error), pytrace=False)
    return {"root": root, "bootstrap": json.loads(bootstrap_out.read_text())}
