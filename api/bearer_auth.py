"""Bearer-key authentication for the routes given it, and how the OpenAPI document declares it.

Litestar's authentication middleware, attached to a route handler only (``POST /predict``), so every
other route stays open and pays nothing. A missing, malformed or unknown key is a 401 in the API's
error shape with a ``WWW-Authenticate: Bearer`` challenge (RFC 6750), never a 400 or a 5xx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme

from api.api_keys import BEARER_TOKEN, ApiKeys
from api.errors import ErrorBody

if TYPE_CHECKING:
    from collections.abc import Iterable

    from litestar.connection import ASGIConnection
    from litestar.types import ASGIApp

__all__ = ["SECURITY", "UNAUTHORIZED_RESPONSE", "bearer_auth_middleware", "security_components"]

_SCHEME_NAME = "bearerAuth"
SECURITY: list[SecurityRequirement] = [{_SCHEME_NAME: []}]


def security_components() -> Components:
    """A fresh set each time: Litestar fills the document's components in place."""
    scheme = SecurityScheme(
        type="http", scheme="bearer", description="A client API key: `Authorization: Bearer <key>`."
    )
    return Components(security_schemes={_SCHEME_NAME: scheme})


UNAUTHORIZED_RESPONSE = ResponseSpec(
    ErrorBody,
    description="No API key, a malformed Authorization header, or an unknown key; "
    "with a `WWW-Authenticate: Bearer` challenge",
    generate_examples=False,
)

_NO_KEY = {"WWW-Authenticate": "Bearer"}
_MALFORMED = {"WWW-Authenticate": 'Bearer error="invalid_request"'}
_UNKNOWN_KEY = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
_ANONYMOUS = AuthenticationResult(user=None, auth=None)


def _authorization(headers: Iterable[tuple[bytes, bytes]]) -> list[bytes]:
    return [value for name, value in headers if name == b"authorization"]


class BearerKeyAuthentication(AbstractAuthenticationMiddleware):
    __slots__ = ("_keys",)

    def __init__(self, app: ASGIApp, *, keys: ApiKeys) -> None:
        super().__init__(app)
        self._keys = keys

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        values = _authorization(connection.scope["headers"])
        if not values:
            raise NotAuthorizedException(
                detail="an API key is required: send Authorization: Bearer <key>", headers=_NO_KEY
            )
        scheme, _, token = values[0].partition(b" ")
        token = token.strip(b" ")
        if len(values) > 1 or scheme.lower() != b"bearer" or not BEARER_TOKEN.fullmatch(token):
            raise NotAuthorizedException(
                detail="the Authorization header must be exactly one 'Bearer <key>'", headers=_MALFORMED
            )
        if not self._keys.matches(token):
            raise NotAuthorizedException(detail="the API key is not valid", headers=_UNKNOWN_KEY)
        return _ANONYMOUS


def bearer_auth_middleware(keys: ApiKeys) -> DefineMiddleware:
    return DefineMiddleware(BearerKeyAuthentication, keys=keys)
