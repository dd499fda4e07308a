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

import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import pytest

Job = Callable[[pytest.TempPathFactory], Any]
_WORKERS = 2
_jobs: dict[str, tuple[Job, ThreadPoolExecutor]] = {}
_futures: dict[str, Future[Any]] = {}
# Below the foreground tests', so the background's processes take the cores only when the foreground leaves
# them idle: a cdk8s synthesis (a Python/Node ping-pong) slowed tenfold beside four Terraform runs.
_NICENESS = 10


def _yield_to_the_foreground() -> None:
    # Linux keeps a nice value per thread, and a process or thread inherits its creator's: every Terraform,
    # make and buildah process a job starts runs niced, the main thread does not.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)


_pool = ThreadPoolExecutor(_WORKERS, "background-fixture", initializer=_yield_to_the_foreground)
_io_pool = ThreadPoolExecutor(1, "background-io", initializer=_yield_to_the_foreground)


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
