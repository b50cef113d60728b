"""Package a model trained by SageMaker's XGBoost algorithm as this workload's model.

The algorithm's ``model.tar.gz`` holds only ``xgboost-model``, a booster over the encoded
features. This step puts it behind the preprocessing the shards were encoded with
(:mod:`..processing.xgboost_input`) in a ``model.joblib`` pipeline, adds ``schema.json``,
``metadata.json`` (metrics on the train and validation splits, scored from the raw rows) and the
serving code (with :mod:`.xgboost_model`, which the pickle needs), and writes ``model.tar.gz``:
from here on the model is evaluated, registered, served and monitored like the scikit-learn one,
on an image that has ``xgboost`` (the SageMaker XGBoost image).

SageMaker Processing contract::

    /opt/ml/processing/input/model/       the training job's model.tar.gz
    /opt/ml/processing/input/encoder/     preprocessor.joblib, features.json, schema.json
    /opt/ml/processing/input/train/       preprocess's train split
    /opt/ml/processing/input/validation/  preprocess's validation split
    /opt/ml/processing/output/model/      model.tar.gz
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
from sklearn.pipeline import Pipeline

from ..compat import UTC, extract_tar
from ..data.tables import read_table
from ..processing.xgboost_input import FEATURES_FILE, PREPROCESSOR_FILE
from ..schema import Schema
from .train import (
    SCHEMA_FILE,
    features_and_target,
    library_versions,
    package_model,
    quick_metrics,
    save_model_dir,
)
from .xgboost_model import BoosterClassifier

#: The file SageMaker's XGBoost algorithm saves the booster to.
BOOSTER_FILE = "xgboost-model"
#: The module the pickled model needs at serving time, beyond the handler's imports.
MODEL_MODULE = "training.xgboost_model"


def _booster_file(model: Path, scratch: Path) -> Path:
    """``xgboost-model`` from a folder holding it or a ``model.tar.gz``."""
    if (model / BOOSTER_FILE).is_file():
        return model / BOOSTER_FILE
    archives = sorted(model.glob("*.tar.gz")) if model.is_dir() else [model]
    for archive in archives:
        with tarfile.open(archive, "r:gz") as tar:
            extract_tar(tar, scratch)
        if (scratch / BOOSTER_FILE).is_file():
            return scratch / BOOSTER_FILE
    raise FileNotFoundError(
        f"{model} holds no {BOOSTER_FILE} (nor a model.tar.gz with one): pass the output of "
        "SageMaker's XGBoost algorithm"
    )


def package(
    model: str | Path,
    encoder: str | Path,
    train_dir: str | Path,
    validation_dir: str | Path,
    output_dir: str | Path,
    *,
    hyperparameters: Mapping[str, Any] | None = None,
    code_version: str | None = None,
    data_version: str | None = None,
) -> Path:
    """Write ``<output_dir>/model.tar.gz``; returns its path."""
    enc = Path(encoder)
    schema = Schema.from_file(enc / SCHEMA_FILE)
    features = json.loads((enc / FEATURES_FILE).read_text(encoding="utf-8"))
    pre = joblib.load(enc / PREPROCESSOR_FILE)
    with tempfile.TemporaryDirectory(prefix="cdk-mlops-xgb-") as tmp:
        booster = _booster_file(Path(model), Path(tmp))
        classifier = BoosterClassifier.from_file(
            str(booster), num_features=int(features["num_features"])
        )
    pipeline = Pipeline([("preprocess", pre), ("model", classifier)])
    metrics: dict[str, dict[str, float]] = {}
    rows: dict[str, int] = {}
    positive_rate = 0.0
    for split, folder in (("train", train_dir), ("validation", validation_dir)):
        x, y = features_and_target(read_table(folder, schema), schema)
        metrics[split] = quick_metrics(y, pipeline.predict_proba(x)[:, 1])
        rows[split] = len(y)
        if split == "train":
            positive_rate = float(y.mean())
    import xgboost

    metadata: dict[str, Any] = {
        "schema_name": schema.name,
        "features": schema.feature_names,
        "positive_label": schema.target.positive,
        "decision_threshold": 0.5,
        "model_type": "xgboost",
        "hyperparameters": dict(hyperparameters or {}),
        "training_rows": rows["train"],
        "validation_rows": rows["validation"],
        "training_positive_rate": positive_rate,
        "encoded_features": int(features["num_features"]),
        "metrics": metrics,
        "library_versions": library_versions(xgboost=xgboost.__version__),
        "code_version": code_version,
        "data_version": data_version,
        "created_at": dt.datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = Path(output_dir)
    with tempfile.TemporaryDirectory(prefix="cdk-mlops-xgb-model-") as folder:
        save_model_dir(folder, pipeline, schema, metadata, extra_modules=(MODEL_MODULE,))
        return package_model(folder, out / "model.tar.gz")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="xgboost_package", description="Package an XGBoost booster as the workload's model"
    )
    p.add_argument("--model", default="/opt/ml/processing/input/model")
    p.add_argument("--encoder", default="/opt/ml/processing/input/encoder")
    p.add_argument("--train", default="/opt/ml/processing/input/train")
    p.add_argument("--validation", default="/opt/ml/processing/input/validation")
    p.add_argument("--output-dir", default="/opt/ml/processing/output/model")
    p.add_argument(
        "--hyperparameters", default="{}", help="the training job's hyperparameters (JSON)"
    )
    p.add_argument("--code-version", default=os.environ.get("CODE_VERSION"))
    p.add_argument("--data-version", default=os.environ.get("DATA_VERSION") or None)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        hyperparameters = json.loads(args.hyperparameters)
        path = package(
            args.model,
            args.encoder,
            args.train,
            args.validation,
            args.output_dir,
            hyperparameters=hyperparameters,
            code_version=args.code_version,
            data_version=args.data_version,
        )
    except (ValueError, OSError, ImportError) as exc:
        print(f"xgboost_package failed: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
