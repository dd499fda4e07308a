"""GET /predict scores the model's baseline input (the original contract); POST /predict scores yours."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import MediaType, Request, get, post
from litestar.exceptions import InternalServerException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType as MediaTypeSpec
from litestar.openapi.spec import Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.types import ASGIApp

from api._responses import FIXED_ANSWER, JsonBytes
from api.api_keys import ApiKeys
from api.bearer_auth import SECURITY, UNAUTHORIZED_RESPONSE, bearer_auth_middleware
from api.errors import ErrorBody, RequestError
from api.model import LogisticModel
from api.scoring_request import RequestParser

__all__ = ["BaselinePrediction", "BatchPrediction", "Prediction", "predict_handlers"]


class BaselinePrediction(msgspec.Struct):
    score: float


class Prediction(msgspec.Struct):
    score: float
    model_version: str


class BatchPrediction(msgspec.Struct):
    scores: list[float]
    model_version: str


# One row gets a score, a batch gets scores; the union documents both shapes of a 200.
_PREDICTION_UNION: Any = Prediction | BatchPrediction


def _error(description: str) -> ResponseSpec:
    return ResponseSpec(ErrorBody, description=description, generate_examples=False)


_ERROR_RESPONSES = {
    400: _error("Malformed JSON, invalid UTF-8, an empty body, or a client that went away mid-body"),
    408: _error("The body was not received within the configured time"),
    413: _error("The body is larger than the configured limit"),
    415: _error("The content type is not application/json"),
    422: _error(
        "Valid JSON, wrong content: missing, unknown, non-numeric or non-finite features, bad batch size"
    ),
}


def _request_body_operation(model: LogisticModel, max_batch_size: int) -> type[Operation]:
    """An Operation class documenting the body we parse ourselves (Litestar only sees ``request``)."""
    features = Schema(
        type=OpenAPIType.OBJECT,
        title="Features",
        description="One row: every model feature, as a finite number.",
        properties={
            feature.name: Schema(type=OpenAPIType.NUMBER, description=feature.description or None)
            for feature in model.features
        },
        required=list(model.feature_names),
        additional_properties=False,
    )
    batch = Schema(
        type=OpenAPIType.OBJECT,
        title="Batch",
        properties={
            "instances": Schema(type=OpenAPIType.ARRAY, items=features, min_items=1, max_items=max_batch_size)
        },
        required=["instances"],
        additional_properties=False,
    )
    body = RequestBody(
        required=True,
        description="One row of features, or a batch of rows under `instances`.",
        content={MediaType.JSON.value: MediaTypeSpec(schema=Schema(one_of=[features, batch]))},
    )

    @dataclass
    class PredictOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    return PredictOperation


def predict_handlers(
    *,
    path: str,
    model: LogisticModel,
    max_batch_size: int,
    body_timeout_seconds: float,
    api_keys: ApiKeys | None = None,
) -> list[HTTPRouteHandler]:
    """GET and POST; with ``api_keys``, POST needs one of them as a bearer token (GET stays open)."""
    baseline = JsonBytes(msgspec.json.encode(BaselinePrediction(score=model.score(model.baseline))))
    parser = RequestParser(model, max_batch_size=max_batch_size)
    version = model.version

    @get(
        path,
        summary="Score the baseline input",
        description="The original contract: scores the model's baseline input (the training means).",
        tags=["predict"],
        media_type=MediaType.JSON,
        responses={
            200: ResponseSpec(BaselinePrediction, description="Baseline score", generate_examples=False)
        },
        opt={FIXED_ANSWER: lambda: baseline},
    )
    async def predict_baseline() -> ASGIApp:
        return baseline

    @post(
        path,
        status_code=200,
        summary="Score features",
        description=f"Scores one row, or a batch of 1 to {max_batch_size} rows, with model {model.name}.",
        tags=["predict"],
        media_type=MediaType.JSON,
        operation_class=_request_body_operation(model, max_batch_size),
        responses={
            200: ResponseSpec(_PREDICTION_UNION, description="Scores in [0, 1]", generate_examples=False),
            **_ERROR_RESPONSES,
            **({401: UNAUTHORIZED_RESPONSE} if api_keys else {}),
        },
        middleware=[bearer_auth_middleware(api_keys)] if api_keys else None,
        security=SECURITY if api_keys else None,
    )
    async def predict(request: Request[Any, Any, Any]) -> ASGIApp:
        parser.check_content_type(request.headers.get("content-type"))
        try:
            async with asyncio.timeout(body_timeout_seconds):
                body = await request.body()
        except TimeoutError:
            msg = f"request body not received within {body_timeout_seconds:g} s"
            raise RequestError(408, msg, field="body") from None
        except InternalServerException:
            # Litestar's way of saying the client disconnected mid-body: a client fault, never a 5xx.
            msg = "client disconnected before sending the whole body"
            raise RequestError(400, msg, field="body", error="client_disconnected") from None
        parsed = parser.parse(body)
        scores = [model.score(row) for row in parsed.rows]
        if parsed.batch:
            return JsonBytes(msgspec.json.encode(BatchPrediction(scores=scores, model_version=version)))
        return JsonBytes(msgspec.json.encode(Prediction(score=scores[0], model_version=version)))

    return [predict_baseline, predict]
