"""The model artifact is validated once at start-up; a missing or corrupt one is a clear error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.model import ModelError, load_model
from api.settings import BUNDLED_MODEL_PATH, load_settings
from tools.common import REPO_ROOT

BUNDLED = json.loads(BUNDLED_MODEL_PATH.read_text())


def _artifact(tmp_path, **changes):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({**BUNDLED, **changes}))
    return path


def test_bundled_model_is_versioned_and_scores_its_baseline_at_exactly_0_75():
    model = load_model(BUNDLED_MODEL_PATH)
    assert (model.name, model.version) == ("churn-logreg", "1.0.0")
    assert model.score(model.baseline) == 0.75


def test_score_is_monotonic_in_each_feature_along_its_weight():
    model = load_model(BUNDLED_MODEL_PATH)
    for index, feature in enumerate(model.features):
        low, high = list(model.baseline), list(model.baseline)
        high[index] += feature.scale
        assert (model.score(high) > model.score(low)) == (feature.weight > 0)


def test_sigmoid_is_stable_far_from_zero():
    model = load_model(BUNDLED_MODEL_PATH)
    index = model.feature_names.index("tenure_months")
    row = list(model.baseline)
    for value, expected in ((-1e300, 1.0), (1e300, 0.0)):
        row[index] = value
        assert model.score(row) == expected


BROKEN = [
    ("missing", None, "cannot read"),
    ("not-json", "{", "not a valid artifact"),
    ("wrong-format", {"format": "xgboost/v9"}, "format"),
    ("bad-version", {"version": "latest"}, "version"),
    ("no-features", {"features": []}, "features"),
    ("zero-scale", {"features": [{**BUNDLED["features"][0], "scale": 0}]}, "scale"),
    ("duplicate", {"features": [BUNDLED["features"][0]] * 2}, "duplicate feature names: tenure_months"),
    ("reserved", {"features": [{**BUNDLED["features"][0], "name": "instances"}]}, "reserved feature names"),
    ("unknown-key", {"bias": 1}, "unknown field `bias`"),
]


@pytest.mark.parametrize(("change", "words"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_artifacts_are_named_errors(tmp_path, change, words):
    if change is None:
        path = tmp_path / "absent.json"
    elif isinstance(change, str):
        path = tmp_path / "model.json"
        path.write_text(change)
    else:
        path = _artifact(tmp_path, **change)
    with pytest.raises(ModelError) as raised:
        load_model(path)
    assert str(path) in str(raised.value)
    assert words in str(raised.value)


def test_non_finite_weights_are_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps(BUNDLED).replace('"intercept": 1.0986122886681098', '"intercept": 1e999'))
    with pytest.raises(ModelError, match=r"Number out of range - at `\$\.intercept`"):
        load_model(path)


def test_a_corrupt_model_stops_start_up_with_exit_2(tmp_path):
    corrupt = tmp_path / "model.json"
    corrupt.write_text('{"format": "logistic-regression/v1"')
    result = subprocess.run(
        [sys.executable, "-m", "api"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PREDICTOR_MODEL_PATH": str(corrupt)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"model error: model artifact {corrupt}" in result.stderr


def test_another_artifact_is_served_without_code_changes(tmp_path, card):
    path = _artifact(tmp_path, version="2.0.0", intercept=0.0)
    settings = load_settings({"PREDICTOR_MODEL_PATH": str(path)}, card=card)
    with TestClient(app=create_app(settings, card=card)) as client:
        response = client.get("/predict")
    assert response.json() == {"score": 0.5}
    assert response.headers["x-model-version"] == "2.0.0"
