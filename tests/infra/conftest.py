"""Fixtures for the infrastructure tests: Terraform runs once per session and tests read the results
(the session's plan of infra/ is tests/conftest.py's `plans`)."""

from __future__ import annotations

import pytest

from tools.infra import tfcheck, tfenv


@pytest.fixture(scope="session")
def config_results(terraform) -> dict[str, tfcheck.ConfigResult]:  # noqa: ARG001 -- ensures terraform exists
    """init + validate of every configuration and terraform test of every module, two at a time."""
    try:
        results = tfcheck.check_configs(tfenv.config_dirs())
    except tfenv.TerraformEnvError as error:
        pytest.fail(str(error), pytrace=False)
    return {result.name: result for result in results}
