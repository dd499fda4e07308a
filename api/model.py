"""The model: a versioned logistic-regression artifact, loaded and validated once at start-up.

The artifact is plain JSON so that an image can ship a different model without code changes
(``PREDICTOR_MODEL_PATH``). Features are standardised with the training mean and scale, so the baseline
input (the training means) scores ``sigmoid(intercept)``; the bundled model's intercept is ln 3, which
makes its baseline score exactly 0.75 — the ``GET /predict`` contract.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import msgspec

__all__ = ["RESERVED_FEATURE_NAMES", "Feature", "LogisticModel", "ModelError", "load_model"]

# "instances" is the batch envelope's key, so no feature may carry that name.
RESERVED_FEATURE_NAMES = frozenset({"instances"})

_FeatureName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class ModelError(ValueError):
    """The artifact is missing, unreadable or inconsistent; the message names the file and the fault."""


class Feature(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: _FeatureName
    weight: float
    mean: float
    scale: Annotated[float, msgspec.Meta(gt=0)]
    description: str = ""


class _Artifact(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    format: Literal["logistic-regression/v1"]
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9-]{0,63}$")]
    version: Annotated[str, msgspec.Meta(pattern=r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")]
    trained_on: str
    intercept: float
    features: Annotated[list[Feature], msgspec.Meta(min_length=1, max_length=1024)]


class LogisticModel:
    """Scores rows of named features; ``baseline`` is the input whose score ``GET /predict`` returns."""

    __slots__ = ("_intercept", "_terms", "feature_names", "features", "name", "trained_on", "version")

    def __init__(
        self, *, name: str, version: str, trained_on: str, intercept: float, features: list[Feature]
    ) -> None:
        self.name = name
        self.version = version
        self.trained_on = trained_on
        self.features = tuple(features)
        self.feature_names = tuple(feature.name for feature in features)
        self._intercept = intercept
        # Folding the standardisation into (mean, weight / scale) keeps scoring to one pass.
        self._terms = tuple((feature.mean, feature.weight / feature.scale) for feature in features)

    @property
    def baseline(self) -> tuple[float, ...]:
        """The training means, in feature order: the input ``GET /predict`` scores."""
        return tuple(feature.mean for feature in self.features)

    def score(self, values: Sequence[float]) -> float:
        """Probability for one row of feature values given in ``feature_names`` order."""
        logit = self._intercept
        for value, (mean, coefficient) in zip(values, self._terms, strict=True):
            logit += (value - mean) * coefficient
        return _sigmoid(logit)


def _sigmoid(logit: float) -> float:
    # Two branches keep exp() from overflowing for large |logit|.
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    exp = math.exp(logit)
    return exp / (1.0 + exp)


def load_model(path: Path | str) -> LogisticModel:
    path = Path(path)
    try:
        artifact = msgspec.json.decode(path.read_bytes(), type=_Artifact)
    except OSError as error:
        msg = f"model artifact {path}: cannot read: {error.strerror or error}"
        raise ModelError(msg) from error
    except msgspec.DecodeError as error:
        # msgspec's JSON decoder also refuses numbers out of float range, so weights are always finite.
        msg = f"model artifact {path}: not a valid artifact: {error}"
        raise ModelError(msg) from error

    names = [feature.name for feature in artifact.features]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        msg = f"model artifact {path}: duplicate feature names: {', '.join(duplicates)}"
        raise ModelError(msg)
    reserved = sorted(RESERVED_FEATURE_NAMES.intersection(names))
    if reserved:
        msg = f"model artifact {path}: reserved feature names: {', '.join(reserved)}"
        raise ModelError(msg)
    return LogisticModel(
        name=artifact.name,
        version=artifact.version,
        trained_on=artifact.trained_on,
        intercept=artifact.intercept,
        features=artifact.features,
    )
