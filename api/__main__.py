"""``python -m api``: read the settings, load the model, serve. Bad configuration exits 2 with the reason."""

from __future__ import annotations

import sys

from api.api_keys import ApiKeyFileError
from api.model import ModelError
from api.service_card import load_service_card
from api.settings import SettingsError, load_settings, setting_variable


def main() -> int:
    card = load_service_card()
    try:
        settings = load_settings(card=card)
    except SettingsError as error:
        print(f"predictor: configuration error: {error}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    from api.server import serve  # noqa: PLC0415 - a configuration error should not pay for the web stack

    try:
        serve(settings, card=card)
    except ModelError as error:
        print(f"predictor: model error: {error}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    except ApiKeyFileError as error:
        # The key file checked a moment ago by load_settings changed before the app read it.
        variable = setting_variable("api_keys_file")
        print(f"predictor: configuration error: {variable}: {error}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
