"""Container HEALTHCHECK without curl: ``python -m api.healthcheck`` exits 0 when liveness answers 200."""

from __future__ import annotations

import sys
import urllib.request

from api.service_card import load_service_card
from api.settings import SettingsError, load_settings

_TIMEOUT_SECONDS = 2.0


def main() -> int:
    card = load_service_card()
    try:
        settings = load_settings(card=card)
    except SettingsError as error:
        print(f"healthcheck: configuration error: {error}", file=sys.stderr)  # noqa: T201 - HEALTHCHECK log
        return 1
    url = f"http://127.0.0.1:{settings.port}{card.paths.liveness}"
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
            return 0 if response.status == 200 else 1  # noqa: PLR2004 - HTTP OK
    except OSError as error:
        print(f"healthcheck: {url}: {error}", file=sys.stderr)  # noqa: T201 - the HEALTHCHECK log is stderr
        return 1


if __name__ == "__main__":
    sys.exit(main())
