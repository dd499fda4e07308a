"""The HTTPS smoke test: the released service still answers its API contract."""

from __future__ import annotations

import json

from api.service_card import load_service_card
from tools.deploy import DeployError, say, sh

# The API contract every release must still answer (never changes): service card path key -> body.
SMOKE_CONTRACT: tuple[tuple[str, dict[str, object]], ...] = (
    ("liveness", {"status": "ok"}),
    ("predict", {"score": 0.75}),
)
_CURL = ["curl", "--silent", "--show-error", "--fail", "--proto", "=https", "--max-time", "10"]
_RETRY = ["--retry", "6", "--retry-delay", "5", "--retry-all-errors"]


def smoke_test(base_url: str) -> None:
    paths = load_service_card().paths
    for path_key, expected in SMOKE_CONTRACT:
        url = f"{base_url}{getattr(paths, path_key)}"
        result = sh([*_CURL, *_RETRY, url], timeout=180)
        if result.returncode != 0:
            msg = f"smoke test: GET {url} failed (curl exit {result.returncode}): {result.stderr.strip()}"
            raise DeployError(msg)
        try:
            body = json.loads(result.stdout)
        except ValueError:
            body = result.stdout.strip()
        if body != expected:
            msg = f"smoke test: GET {url} answered {body!r}, the contract is {expected!r}"
            raise DeployError(msg)
        say(f"smoke test: GET {url} -> {json.dumps(body)}")
