"""What each route of the service answers, in plain ASGI: probes, predictions, metrics.

The outermost layer (api/front.py) calls these directly, so a request to the service's own
routes never enters a framework; Litestar (api/litestar_app.py) documents the same routes and answers
everything else (the OpenAPI document, 404, 405, OPTIONS).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec

from api._metrics import CONTENT_TYPE, Metrics
from api._responses import Answer, EncodedResponse
from api.api_keys import ApiKeys
from api.bearer_auth import check_bearer_key
from api.errors import RequestError, error_response, internal_error_response
from api.lifecycle import Lifecycle
from api.model import LogisticModel
from api.scoring_request import RequestParser
from api.service_card import Paths

if TYPE_CHECKING:
    from litestar.types import Receive, Scope

__all__ = [
    "BaselinePrediction",
    "BatchPrediction",
    "Health",
    "ModelInfo",
    "PredictEndpoint",
    "Prediction",
    "Readiness",
    "answers",
]


class Health(msgspec.Struct):
    status: str


class ModelInfo(msgspec.Struct):
    name: str
    version: str


class Readiness(msgspec.Struct, omit_defaults=True):
    status: str
    model: ModelInfo
    reason: str | None = None


class BaselinePrediction(msgspec.Struct):
    score: float


class Prediction(msgspec.Struct):
    score: float
    model_version: str


class BatchPrediction(msgspec.Struct):
    scores: list[float]
    model_version: str


def _constant(response: EncodedResponse) -> Answer:
    async def answer(scope: Scope, receive: Receive) -> EncodedResponse:  # noqa: ARG001 - an Answer
        return response

    return answer


def _json(document: msgspec.Struct, status: int = 200) -> EncodedResponse:
    return EncodedResponse(msgspec.json.encode(document), status)


def _readiness(model: LogisticModel, lifecycle: Lifecycle) -> Answer:
    info = ModelInfo(name=model.name, version=model.version)
    ready = _json(Readiness(status="ready", model=info))
    reason = "shutting down: finishing in-flight requests"
    draining = _json(Readiness(status="draining", model=info, reason=reason), status=503)

    async def readiness(scope: Scope, receive: Receive) -> EncodedResponse:  # noqa: ARG001 - an Answer
        return draining if lifecycle.draining else ready

    return readiness


class PredictEndpoint:
    """POST /predict: the bearer key when keys are configured, the content type, the body within its size
    and time limits, then one row or a batch scored. Every failure is an answer in the error shape."""

    __slots__ = ("_api_keys", "_max_body_bytes", "_model", "_parser", "_timeout", "_too_large")

    def __init__(
        self, model: LogisticModel, *, max_batch_size: int, max_body_bytes: int, body_timeout_seconds: float,
        api_keys: ApiKeys | None,
    ) -> None:  # fmt: skip
        self._model = model
        self._parser = RequestParser(model, max_batch_size=max_batch_size)
        self._max_body_bytes = max_body_bytes
        self._too_large = f"request body exceeds the {max_body_bytes}-byte limit"
        self._timeout = body_timeout_seconds
        self._api_keys = api_keys

    async def __call__(self, scope: Scope, receive: Receive) -> EncodedResponse:
        try:
            return await self._answer(scope, receive)
        except RequestError as error:
            return error_response(error)
        except Exception as error:  # noqa: BLE001 - any other failure is a logged 500 in the error shape
            return internal_error_response(scope["method"], scope["path"], error)  # type: ignore[typeddict-item]

    async def _answer(self, scope: Scope, receive: Receive) -> EncodedResponse:
        headers = scope["headers"]
        if self._api_keys is not None:
            check_bearer_key(self._api_keys, headers)
        content_type = next((value for name, value in headers if name == b"content-type"), None)
        self._parser.check_content_type(None if content_type is None else content_type.decode("latin-1"))
        length = next((value for name, value in headers if name == b"content-length"), b"")
        if length.isdigit() and int(length) > self._max_body_bytes:
            raise RequestError(413, self._too_large, field="body")
        try:
            async with asyncio.timeout(self._timeout):
                body = await self._body(receive)
        except TimeoutError:
            msg = f"request body not received within {self._timeout:g} s"
            raise RequestError(408, msg, field="body") from None
        parsed = self._parser.parse(body)
        scores = [self._model.score(row) for row in parsed.rows]
        version = self._model.version
        if parsed.batch:
            return _json(BatchPrediction(scores=scores, model_version=version))
        return _json(Prediction(score=scores[0], model_version=version))

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message: dict[str, Any] = await receive()  # type: ignore[assignment]  # http.request or disconnect
            if message["type"] == "http.disconnect":
                msg = "client disconnected before sending the whole body"
                raise RequestError(400, msg, field="body", error="client_disconnected")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body_bytes:
                raise RequestError(413, self._too_large, field="body")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def answers(
    *,
    paths: Paths,
    model: LogisticModel,
    lifecycle: Lifecycle,
    metrics: Metrics | None,
    endpoint: PredictEndpoint,
) -> dict[tuple[str, str], Answer]:
    """(method, path) to its answer."""
    routes: dict[tuple[str, str], Answer] = {
        ("GET", paths.liveness): _constant(_json(Health(status="ok"))),
        ("GET", paths.readiness): _readiness(model, lifecycle),
        ("GET", paths.predict): _constant(_json(BaselinePrediction(score=model.score(model.baseline)))),
        ("POST", paths.predict): endpoint,
    }
    if metrics is not None:
        content_type = CONTENT_TYPE.encode()

        async def exposition(scope: Scope, receive: Receive) -> EncodedResponse:  # noqa: ARG001 - an Answer
            return EncodedResponse(metrics.render(), content_type=content_type)

        routes["GET", paths.metrics] = exposition
    return routes
