"""Fixtures for the infrastructure tests: Terraform runs once per session and tests read the results
(the session's plan of infra/ is tests/conftest.py's `plans`)."""

from __future__ import annotations

import pytest

from tests.support import background
from tools.infra import tfcheck, tfenv


@background.session_fixture
def config_results(_tmp: pytest.TempPathFactory) -> dict[str, tfcheck.ConfigResult]:
    """init + validate of every configuration and terraform test of every module, two at a time."""
    try:
        tfenv.terraform_binary()
        results = tfcheck.check_configs(tfenv.config_dirs())
    except tfenv.TerraformEnvError as error:
        pytest.fail(str(error), pytrace=False)
    return {result.name: result for result in results}
