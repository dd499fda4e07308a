"""Session fixtures whose slow work starts in the background when the session starts.

Terraform plans and tests and `make policy` runs are a few subprocesses each; most of the other tests are
one Python process. A fixture made with `session_fixture` starts its work as soon as the first test runs
(when a collected test uses it) instead of when its own tests come up, so the two overlap on a two-core
machine. The fixture then returns the result, waiting for it if needed; an exception (a `pytest.fail`
too) is raised where the fixture is used, exactly as if it had run there. Load proofs call `drain()`
first: their figures need the machine to themselves. Work that mostly waits on the network and the disk
(the image's base from the Debian archive, the image build) is an `io_session_fixture`: a lane of its
own, so it starts at once instead of queueing behind the Terraform runs, and takes no core from them
while it waits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import pytest

Job = Callable[[pytest.TempPathFactory], Any]
_WORKERS = 2
_jobs: dict[str, tuple[Job, ThreadPoolExecutor]] = {}
_futures: dict[str, Future[Any]] = {}
_pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="background-fixture")
_io_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="background-io")


def session_fixture(job: Job, pool: ThreadPoolExecutor = _pool) -> Any:
    """A session fixture named like ``job`` returning ``job(tmp_path_factory)``, started by `start`."""
    _jobs[job.__name__] = (job, pool)

    @pytest.fixture(scope="session", name=job.__name__)
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Any:
        _submit(job.__name__, tmp_path_factory)
        return _futures[job.__name__].result()

    fixture.__doc__ = job.__doc__
    return fixture


io_session_fixture = functools.partial(session_fixture, pool=_io_pool)


def _submit(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    if name not in _futures:
        job, pool = _jobs[name]
        _futures[name] = pool.submit(job, tmp_path_factory)


def start(session: pytest.Session, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Submit, in registration order, the jobs of the fixtures the collected tests use."""
    used = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    for name in _jobs:
        if name in used:
            _submit(name, tmp_path_factory)


def waits_on(item: pytest.Item) -> bool:
    """Whether the test reads a background fixture's result."""
    return not _jobs.keys().isdisjoint(getattr(item, "fixturenames", ()))


def drain() -> None:
    """Wait until no background work is running (results and errors stay for their fixtures)."""
    wait(list(_futures.values()))
