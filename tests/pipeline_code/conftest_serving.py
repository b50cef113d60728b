"""Fixtures for the inference and monitoring tests (imported by those test modules).

They build their own small model so these tests do not depend on the training code: a
scikit-learn Pipeline fitted on synthetic rows drawn from the schema's ranges and categories,
packaged as ``model.tar.gz`` (model.joblib + schema.json + metadata.json) per the model
artifact contract.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from pipeline_code.inference.handler import LoadedModel, model_fn
from pipeline_code.schema import Schema

__all__ = ["churn_schema", "loaded_model", "model_artifact"]


def synthetic_features(
    schema: Schema, n: int, seed: int = 0, *, null_share: float = 0.05
) -> pd.DataFrame:
    """Rows of ``schema.feature_names`` inside the schema's ranges/categories (clean ETL form)."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for spec in schema.features:
        if spec.is_numeric:
            lo = 0.0 if spec.min is None else spec.min
            hi = lo + 100.0 if spec.max is None else spec.max
            # skewed towards the low end like real usage data, always inside [lo, hi]
            x = lo + (hi - lo) * rng.beta(1.5, 4.0, size=n)
            if spec.type == "integer":
                x = np.floor(x)
            if spec.nullable:
                x[rng.random(n) < null_share] = np.nan
            data[spec.name] = x.astype(np.float64)
        else:
            cats = np.array(spec.allowed_categories, dtype=object)
            weights = np.linspace(1.0, 2.0, len(cats))
            data[spec.name] = rng.choice(cats, size=n, p=weights / weights.sum())
    return pd.DataFrame(data, columns=schema.feature_names)


def synthetic_labels(schema: Schema, features: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """0/1 labels that depend on the features (so the model has something to learn)."""
    rng = np.random.default_rng(seed + 1)
    score = np.zeros(len(features))
    for i, spec in enumerate(schema.features):
        col = features[spec.name]
        sign = 1.0 if i % 2 == 0 else -1.0
        if spec.is_numeric:
            x = col.to_numpy(dtype=float)
            x = np.where(np.isnan(x), np.nanmean(x), x)
            score += sign * (x - x.mean()) / (x.std() or 1.0)
        else:
            score += sign * (col == spec.allowed_categories[0]).to_numpy(dtype=float)
    p = 1.0 / (1.0 + np.exp(-score))
    return (rng.random(len(features)) < p).astype(np.int64)


def build_pipeline(schema: Schema) -> Pipeline:
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    pre = ColumnTransformer(
        [
            ("num", numeric, schema.numeric_features),
            ("cat", OneHotEncoder(handle_unknown="ignore"), schema.categorical_features),
        ]
    )
    return Pipeline([("prep", pre), ("clf", LogisticRegression(max_iter=500))])


def write_model_artifact(schema: Schema, out_dir: Path, *, rows: int = 400, seed: int = 0) -> Path:
    """Fit the pipeline and write ``out_dir/model.tar.gz``; returns the extracted model folder."""
    X = synthetic_features(schema, rows, seed)
    y = synthetic_labels(schema, X, seed)
    model = build_pipeline(schema).fit(X, y)
    model_dir = out_dir / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / "model.joblib")
    (model_dir / "schema.json").write_text(schema.to_json(), encoding="utf-8")
    (model_dir / "metadata.json").write_text(
        json.dumps({"hyperparameters": {"max_iter": 500}, "training_rows": rows}), encoding="utf-8"
    )
    with tarfile.open(out_dir / "model.tar.gz", "w:gz") as tar:
        for name in ("model.joblib", "schema.json", "metadata.json"):
            tar.add(model_dir / name, arcname=name)
    return model_dir


@pytest.fixture(scope="session")
def churn_schema() -> Schema:
    return Schema.builtin("churn")


@pytest.fixture(scope="session")
def model_artifact(tmp_path_factory: pytest.TempPathFactory, churn_schema: Schema) -> Path:
    """Folder holding ``model.tar.gz`` and its extracted contents (``model/``)."""
    root = tmp_path_factory.mktemp("serving-model")
    write_model_artifact(churn_schema, root)
    return root


@pytest.fixture(scope="session")
def loaded_model(model_artifact: Path) -> LoadedModel:

    return model_fn(model_artifact / "model")
