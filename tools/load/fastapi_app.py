"""The comparison baseline: a bare FastAPI app with the same two GET endpoints, measured in the same run."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/predict")
async def predict() -> dict[str, float]:
    return {"score": 0.75}
