from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.lifecycle import Lifecycle
from api.model import load_model
from api.service_card import load_service_card
from api.settings import load_settings
from tools.load.service import running_service

FEATURES = {"tenure_months": 3.0, "monthly_spend": 90.0, "support_tickets": 4.0, "days_since_login": 30.0}


@pytest.fixture(scope="session")
def card():
    return load_service_card()


@pytest.fixture(scope="session")
def settings(card):
    return load_settings({}, card=card)


@pytest.fixture(scope="session")
def model(settings):
    return load_model(settings.model_path)


@pytest.fixture
def lifecycle():
    return Lifecycle()


@pytest.fixture
def client(settings, lifecycle, card):
    with TestClient(app=create_app(settings, lifecycle=lifecycle, card=card)) as test_client:
        yield test_client


@pytest.fixture
def features():
    return dict(FEATURES)


@pytest.fixture(scope="module")
def live_service(tmp_path_factory):
    """The real server process, as `make run` starts it (production settings)."""
    with running_service(tmp_path_factory.mktemp("live") / "service.log") as service:
        yield service
