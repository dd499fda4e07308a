"""Listings of a container's root filesystem: what a build step added, and proof that a run wrote nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NamedTuple


class Entry(NamedTuple):
    mode: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    ctime_ns: int  # moves on any metadata change too: chmod, chown, a new hard link


Listing = dict[str, Entry]


def snapshot(root: Path, *, skip: frozenset[str] = frozenset()) -> Listing:
    """Every path under ``root`` (relative, no leading slash), except the subtrees named in ``skip``."""
    listing: Listing = {}
    for directory, subdirectories, files in os.walk(root):
        relative_dir = os.path.relpath(directory, root)
        subdirectories[:] = [name for name in subdirectories if _relative(relative_dir, name) not in skip]
        for name in (*subdirectories, *files):
            relative = _relative(relative_dir, name)
            info = (Path(directory) / name).lstat()
            listing[relative] = Entry(
                info.st_mode, info.st_uid, info.st_gid, info.st_size, info.st_mtime_ns, info.st_ctime_ns
            )
    return listing


def _relative(directory: str, name: str) -> str:
    return name if directory == "." else f"{directory}/{name}"


class Changes(NamedTuple):
    added: list[str]
    removed: list[str]
    modified: list[str]

    def describe(self) -> list[str]:
        return (
            [f"added {path}" for path in self.added]
            + [f"removed {path}" for path in self.removed]
            + [f"modified {path}" for path in self.modified]
        )


def compare(before: Listing, after: Listing, *, ctime: bool = True) -> Changes:
    """Added, removed and modified paths. ``ctime=False`` compares two copies of a tree (a base and an
    image built on it are separate copies in vfs, so every inode's change time differs)."""
    fields = slice(None) if ctime else slice(0, 5)
    return Changes(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        modified=sorted(
            path for path in before.keys() & after.keys() if before[path][fields] != after[path][fields]
        ),
    )


def regular_file_bytes(listing: Listing, paths: list[str] | None = None) -> int:
    return sum(
        listing[path].size
        for path in (listing if paths is None else paths)
        if stat.S_ISREG(listing[path].mode)
    )
