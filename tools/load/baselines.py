"""What ``make bench`` compares the service with: a bare FastAPI app on the same uvicorn (uvloop, httptools).

GET /health and GET /predict answer the service's constant bodies; POST /predict validates one row with
pydantic as the service does (every model feature, finite numbers, nothing else) and scores it with the
same model, so the comparison is the frameworks' cost, not the work.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, create_model

from api.model import load_model
from api.settings import BUNDLED_MODEL_PATH

_MODEL = load_model(BUNDLED_MODEL_PATH)
_Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Row: type[BaseModel] = create_model(
    "Row",
    __config__=ConfigDict(extra="forbid"),
    **dict.fromkeys(_MODEL.feature_names, (_Finite, ...)),  # type: ignore[call-overload]
)

fastapi = FastAPI()


@fastapi.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@fastapi.get("/predict")
async def predict() -> dict[str, float]:
    return {"score": 0.75}


@fastapi.post("/predict")
async def predict_row(row: Row) -> dict[str, Any]:  # type: ignore[valid-type]
    features = row.model_dump()  # type: ignore[attr-defined]
    score = _MODEL.score([features[name] for name in _MODEL.feature_names])
    return {"score": score, "model_version": _MODEL.version}
