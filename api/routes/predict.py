"""GET /predict scores the model's baseline input (the original contract); POST /predict scores yours.

What they answer is api/answers.py's; here is how the OpenAPI document describes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Operation,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.openapi.spec import OpenAPIMediaType as MediaTypeSpec
from litestar.openapi.spec.enums import OpenAPIType
from litestar.types import ASGIApp

from api._responses import Answer
from api.answers import BaselinePrediction, BatchPrediction, Prediction
from api.errors import ErrorBody
from api.model import LogisticModel

__all__ = ["predict_handlers", "security_components"]

# One row gets a score, a batch gets scores; the union documents both shapes of a 200.
_PREDICTION_UNION: Any = Prediction | BatchPrediction
_SCHEME_NAME = "bearerAuth"
_SECURITY: list[SecurityRequirement] = [{_SCHEME_NAME: []}]


def security_components() -> Components:
    """A fresh set each time: Litestar fills the document's components in place."""
    scheme = SecurityScheme(
        type="http", scheme="bearer", description="A client API key: `Authorization: Bearer <key>`."
    )
    return Components(security_schemes={_SCHEME_NAME: scheme})


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
_UNAUTHORIZED_RESPONSE = _error(
    "No API key, a malformed Authorization header, or an unknown key; "
    "with a `WWW-Authenticate: Bearer` challenge"
)


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


def predict_handlers(  # noqa: PLR0913 - keyword-only: what the two operations document and answer
    *,
    path: str,
    model: LogisticModel,
    max_batch_size: int,
    secured: bool,
    baseline_answer: Answer,
    predict_answer: Answer,
) -> list[HTTPRouteHandler]:
    """GET and POST; when ``secured``, POST is documented as needing a bearer key (GET stays open)."""

    @get(
        path,
        summary="Score the baseline input",
        description="The original contract: scores the model's baseline input (the training means).",
        tags=["predict"],
        media_type=MediaType.JSON,
        responses={
            200: ResponseSpec(BaselinePrediction, description="Baseline score", generate_examples=False)
        },
    )
    async def predict_baseline(request: Request[Any, Any, Any]) -> ASGIApp:
        return await baseline_answer(request.scope, request.receive)

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
            **({401: _UNAUTHORIZED_RESPONSE} if secured else {}),
        },
        security=_SECURITY if secured else None,
    )
    async def predict(request: Request[Any, Any, Any]) -> ASGIApp:
        return await predict_answer(request.scope, request.receive)

    return [predict_baseline, predict]
