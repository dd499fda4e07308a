"""Session fixtures more than one suite reads: the service card, and the offline plan of infra/ (planned
once per session; the infrastructure and cross-layer contract suites both read it)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support import background
from tools.common import REPO_ROOT
from tools.infra import offline_plan, tfenv


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `alone` go last (stable sort), after the background fixtures' work. Before them come
    the modules that read a background fixture's result: the foreground does its own work first, while
    the background runs, instead of waiting on a plan or the image build early on with a core idle."""
    waiting = {item.path for item in items if background.waits_on(item)}
    items.sort(key=lambda item: (item.get_closest_marker("alone") is not None, item.path in waiting))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before an `alone` test sets up its fixtures (a load proof starts servers there), the background is
    done."""
    if item.get_closest_marker("alone"):
        background.drain()


@pytest.fixture(scope="session", autouse=True)
def _background_work(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The slow session fixtures start now, beside the tests that come first (tests/support/background.py).

    The provider mirror is found once, as .ci/run does, and handed to every `make policy` and tool the
    session starts: each would otherwise search the whole disk again (15 s or more) before planning."""
    with pytest.MonkeyPatch.context() as patch:
        try:
            mirror = tfenv.provider_source().mirror
        except tfenv.TerraformEnvError:
            mirror = None  # the infra tests and the plan gate report it where they run Terraform
        if mirror is not None:
            patch.setenv(tfenv.MIRROR_ENV, str(mirror))
        background.start(request.session, tmp_path_factory)
        yield


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


@background.session_fixture
def plans(_tmp: pytest.TempPathFactory) -> dict[str, dict]:
    """Plan JSON of the root and bootstrap configurations against moto, written where make writes it."""
    out = tfenv.BUILD_DIR / "plan.json"
    bootstrap_out = tfenv.BUILD_DIR / "bootstrap-plan.json"
    try:
        tfenv.terraform_binary()
        root = offline_plan.offline_plan(out, bootstrap_out)
    except (tfenv.TerraformEnvError, offline_plan.aws_emulator.EmulatorError) as error:
        pytest.fail(str(error), pytrace=False)
    return {"root": root, "bootstrap": json.loads(bootstrap_out.read_text())}
