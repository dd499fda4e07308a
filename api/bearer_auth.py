"""Bearer-key authentication of ``POST /predict``, the one route given it; every other route stays open.

A missing, malformed or unknown key is a 401 in the API's error shape with a ``WWW-Authenticate: Bearer``
challenge (RFC 6750), never a 400 or a 5xx. How the OpenAPI document declares it: api/routes/predict.py.
"""

from __future__ import annotations

from collections.abc import Iterable

from api.api_keys import BEARER_TOKEN, ApiKeys
from api.errors import RequestError

__all__ = ["check_bearer_key"]

_NO_KEY = {"WWW-Authenticate": "Bearer"}
_MALFORMED = {"WWW-Authenticate": 'Bearer error="invalid_request"'}
_UNKNOWN_KEY = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def check_bearer_key(keys: ApiKeys, headers: Iterable[tuple[bytes, bytes]]) -> None:
    """Pass when the request carries exactly one ``Authorization: Bearer <key>`` of a known key."""
    values = [value for name, value in headers if name == b"authorization"]
    if not values:
        msg = "an API key is required: send Authorization: Bearer <key>"
        raise RequestError(401, msg, headers=_NO_KEY)
    scheme, _, token = values[0].partition(b" ")
    token = token.strip(b" ")
    if len(values) > 1 or scheme.lower() != b"bearer" or not BEARER_TOKEN.fullmatch(token):
        msg = "the Authorization header must be exactly one 'Bearer <key>'"
        raise RequestError(401, msg, headers=_MALFORMED)
    if not keys.matches(token):
        raise RequestError(401, "the API key is not valid", headers=_UNKNOWN_KEY)
