"""Hold a process to a CPU quota with a cgroup v1 ``cpu`` controller, the way the kubelet holds a container.

A pod's CPU *request* is what it is guaranteed when its node is full; to measure what one pod serves
there, the server runs in a fresh cgroup under ``/sys/fs/cgroup/cpu/`` whose CFS quota equals the request
(500m -> 50000 us per 100000 us, the kubelet's period). The cgroup is removed afterwards. If it cannot be
created (no cgroup v1 cpu controller, not root), this refuses: a measurement without the quota would
describe a pod with the whole machine, which no pod has.

The kubelet guarantees the request through ``cpu.shares``, on a node whose pods' requests add up to no
more than it has. This machine's other processes have no such budget (other load tests run here too), so
the group's weight is raised to the kernel's maximum: the server gets its request first whenever it
wants it, and the quota still stops it there.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CPU_CGROUP_ROOT", "KUBELET_CFS_PERIOD_US", "CgroupUnavailableError", "CpuQuota", "cpu_quota"]

CPU_CGROUP_ROOT = Path("/sys/fs/cgroup/cpu")
# The kubelet's CFS period (--cpu-cfs-quota-period default): 100 ms.
KUBELET_CFS_PERIOD_US = 100_000
_MINIMUM_QUOTA_US = 1000  # the kernel refuses less
_MAXIMUM_SHARES = 262_144  # cgroup v1's highest cpu.shares


class CgroupUnavailableError(RuntimeError):
    """No writable cgroup v1 cpu controller: the measurement cannot hold the server to its request."""


@dataclass(frozen=True)
class CpuQuota:
    path: Path
    quota_us: int
    period_us: int

    @property
    def procs_file(self) -> Path:
        """Writing a PID here moves that process (every thread) into the cgroup; children inherit it."""
        return self.path / "cgroup.procs"

    def members(self) -> list[int]:
        return [int(line) for line in self.procs_file.read_text().split()]

    def stat(self) -> dict[str, int]:
        """The controller's counters: nr_periods, nr_throttled, throttled_time (ns)."""
        counters = {}
        for line in (self.path / "cpu.stat").read_text().splitlines():
            key, value = line.split()
            counters[key] = int(value)
        return counters


def _write(path: Path, value: int) -> None:
    path.write_text(f"{value}\n")
    if int(path.read_text().strip()) != value:
        msg = f"{path} did not take {value}"
        raise CgroupUnavailableError(msg)


def _release(group: Path, parent: Path) -> None:
    """Move any process left in ``group`` back to ``parent`` and remove the group."""
    deadline = time.monotonic() + 10
    while True:
        leftovers = (group / "cgroup.procs").read_text().split()
        for pid in leftovers:
            with contextlib.suppress(OSError):  # the process may have exited meanwhile
                (parent / "cgroup.procs").write_text(f"{pid}\n")
        try:
            group.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        else:
            return


@contextlib.contextmanager
def cpu_quota(
    millicores: int, *, period_us: int = KUBELET_CFS_PERIOD_US, root: Path = CPU_CGROUP_ROOT
) -> Iterator[CpuQuota]:
    """A new cgroup allowing ``millicores`` of CPU; removed (members moved back to ``root``) on exit."""
    if millicores <= 0:
        msg = f"CPU quota must be above zero millicores, got {millicores}"
        raise ValueError(msg)
    quota_us = millicores * period_us // 1000
    if quota_us < _MINIMUM_QUOTA_US:
        msg = f"{millicores}m is below the kernel's minimum CFS quota ({_MINIMUM_QUOTA_US} us a period)"
        raise ValueError(msg)
    if not (root / "cpu.cfs_quota_us").is_file():
        msg = (
            f"no cgroup v1 cpu controller at {root} (cpu.cfs_quota_us is missing); refusing to measure "
            "without the pod's CPU quota"
        )
        raise CgroupUnavailableError(msg)
    group = root / f"predictor-capacity-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        group.mkdir()
    except OSError as error:
        msg = (
            f"cannot create the cgroup {group} ({error.strerror}); run as root on a host with a writable "
            "cgroup v1 cpu controller, refusing to measure without the pod's CPU quota"
        )
        raise CgroupUnavailableError(msg) from error
    try:
        _write(group / "cpu.cfs_period_us", period_us)
        _write(group / "cpu.cfs_quota_us", quota_us)
        _write(group / "cpu.shares", _MAXIMUM_SHARES)
        yield CpuQuota(path=group, quota_us=quota_us, period_us=period_us)
    finally:
        _release(group, root)
