"""Every error the API returns has one JSON shape, naming the offending field when there is one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import msgspec

from api._responses import EncodedResponse

if TYPE_CHECKING:
    from litestar import Request, Response
    from litestar.exceptions import HTTPException
    from litestar.types import ExceptionHandlersMap

__all__ = [
    "MAX_DETAIL_CHARS",
    "MAX_FIELD_CHARS",
    "ErrorBody",
    "RequestError",
    "error_response",
    "exception_handlers",
    "internal_error_response",
]

_log = logging.getLogger("api.errors")

# Litestar raises these itself (routing, body limit); clients get a stable code for each.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    500: "internal_error",
}


class ErrorBody(msgspec.Struct, omit_defaults=True):
    status: int
    error: str
    detail: str
    field: str | None = None


# Fields and details can quote what the client sent (a key, a path); bounded, so a huge key cannot
# inflate the error response.
MAX_FIELD_CHARS = 128
MAX_DETAIL_CHARS = 512


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."


class RequestError(Exception):
    """A client error detected by our own validation."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        field: str | None = None,
        error: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        detail = _bounded(detail, MAX_DETAIL_CHARS)
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = None if field is None else _bounded(field, MAX_FIELD_CHARS)
        self.error = error or _CODES.get(status, "client_error")
        self.headers = {**(headers or {}), **(_close_if_body_unread(status) or {})}


def _response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    from litestar import MediaType, Response  # noqa: PLC0415 - Litestar loads after start-up (api/app.py)

    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def _close_if_body_unread(status: int) -> dict[str, str] | None:
    # After a 408 or 413 the rest of the body may still be on the wire; the connection can't be reused.
    return {"connection": "close"} if status in {408, 413} else None


def error_response(exc: RequestError) -> EncodedResponse:
    body = ErrorBody(status=exc.status, error=exc.error, detail=exc.detail, field=exc.field)
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in exc.headers.items()
    ]
    return EncodedResponse(msgspec.json.encode(body), exc.status, headers=headers)


_INTERNAL_ERROR = ErrorBody(
    status=500, error=_CODES[500], detail="internal error; the request id identifies it in the logs"
)


def internal_error_response(method: str, path: str, exc: Exception) -> EncodedResponse:
    _log.error("unhandled error on %s %s", method, path, exc_info=exc)
    return EncodedResponse(msgspec.json.encode(_INTERNAL_ERROR), 500)


def _on_request_error(_: Request[Any, Any, Any], exc: RequestError) -> Response[ErrorBody]:
    body = ErrorBody(status=exc.status, error=exc.error, detail=exc.detail, field=exc.field)
    return _response(exc.status, body, exc.headers or None)


def _on_http_exception_factory(
    max_body_bytes: int,
) -> Callable[[Request[Any, Any, Any], HTTPException], Response[ErrorBody]]:
    too_large = f"request body exceeds the {max_body_bytes}-byte limit"

    def on_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
        status = exc.status_code
        field, detail = (None, exc.detail)
        if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
            field, detail = ("body", too_large)
        body = ErrorBody(status=status, error=_CODES.get(status, "http_error"), detail=detail, field=field)
        return _response(status, body, {**(exc.headers or {}), **(_close_if_body_unread(status) or {})})

    return on_http_exception


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    _log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _response(500, _INTERNAL_ERROR)


def exception_handlers(*, max_body_bytes: int) -> ExceptionHandlersMap:
    from litestar.exceptions import HTTPException  # noqa: PLC0415 - Litestar loads after start-up

    return {
        RequestError: _on_request_error,
        HTTPException: _on_http_exception_factory(max_body_bytes),
        Exception: _on_unexpected,
    }
