"""How `make test` spreads the suites over two workers (pytest-xdist, ``--dist loadgroup``).

Each suite is one group, so its session fixtures (the offline plan, the image build, the real `make
policy` run) are made once, on one worker, and suites that mostly wait (the proofs) overlap with suites
that mostly compute (the policy gates).
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        suite = item.path.relative_to(TESTS_DIR).parts[0]
        item.add_marker(pytest.mark.xdist_group(suite))
