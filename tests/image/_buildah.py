"""buildah as the image tests drive it: rootful, chroot isolation, vfs, in a store of their own under build/.

A store of its own keeps the tests from touching a developer's images, works whatever driver the system
store was set up with, and `make clean` removes it (with the cached base image).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TIMEOUT_SECONDS = 600


class BuildahError(RuntimeError):
    pass


@dataclass(frozen=True)
class Buildah:
    state_dir: Path

    @classmethod
    def in_store(cls, state_dir: Path) -> Buildah:
        state_dir.mkdir(parents=True, exist_ok=True)
        conf = state_dir / "storage.conf"
        text = (
            "[storage]\n"
            'driver = "vfs"\n'
            f'graphroot = "{state_dir / "storage"}"\n'
            f'runroot = "{state_dir / "run"}"\n'
        )
        # Rewritten only when it differs: a build in the background may be reading it.
        if not conf.is_file() or conf.read_text(encoding="utf-8") != text:
            conf.write_text(text, encoding="utf-8")
        return cls(state_dir)

    @property
    def env(self) -> dict[str, str]:
        """The environment for buildah, and for `make image` so that it builds into the same store."""
        return os.environ | {
            "CONTAINERS_STORAGE_CONF": str(self.state_dir / "storage.conf"),
            "BUILDAH_ISOLATION": "chroot",
        }

    def command(self, *args: str) -> list[str]:
        return ["buildah", "--storage-driver", "vfs", *args]

    def run(
        self, *args: str, check: bool = True, timeout: float = _TIMEOUT_SECONDS, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args),
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            msg = f"buildah {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"
            raise BuildahError(msg)
        return result

    def image_exists(self, reference: str) -> bool:
        return self.run("inspect", "--type", "image", reference, check=False).returncode == 0

    def inspect_image(self, reference: str) -> dict[str, Any]:
        return json.loads(self.run("inspect", "--type", "image", reference).stdout)  # type: ignore[no-any-return]

    def image_config(self, reference: str) -> dict[str, Any]:
        """The Docker-format config (HEALTHCHECK lives only there)."""
        return self.inspect_image(reference)["Docker"]["config"]  # type: ignore[no-any-return]

    def images_named(self, repository: str) -> list[str]:
        listing = self.run("images", "--json").stdout.strip()
        names = [name for image in json.loads(listing or "[]") for name in image.get("names") or []]
        return [name for name in names if name.rsplit(":", 1)[0] == repository]

    def container_names(self) -> list[str]:
        listing = self.run("containers", "--json").stdout.strip()
        return [container["containername"] for container in json.loads(listing or "null") or []]

    def remove_image(self, reference: str) -> None:
        self.run("rmi", reference, check=False)

    def new_container(self, image: str, name: str) -> str:
        self.run("rm", name, check=False)  # a leftover of an interrupted run
        return self.run("from", "--pull-never", "--name", name, image).stdout.strip()

    def mount(self, container: str) -> Path:
        return Path(self.run("mount", container).stdout.strip())

    def remove_container(self, container: str) -> None:
        self.run("umount", container, check=False)
        self.run("rm", container, check=False)
