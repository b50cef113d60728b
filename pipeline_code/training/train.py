"""Train a scikit-learn pipeline (preprocessing + model) under the SageMaker training contract.

Contract (the scikit-learn container runs ``python train.py --<hyperparameter> <value> ...``)::

    SM_CHANNEL_TRAIN       /opt/ml/input/data/train        train.csv (or .parquet) + schema.json
    SM_CHANNEL_VALIDATION  /opt/ml/input/data/validation   optional, for validation metrics
    SM_MODEL_DIR           /opt/ml/model                   model.joblib, schema.json, metadata.json,
                                                           code/ (the serving code, see below)
    /opt/ml/input/config/hyperparameters.json              read first; command-line values win
    /opt/ml/output/failure                                 the error message, when training fails

SageMaker packs ``SM_MODEL_DIR`` into ``model.tar.gz``; locally, ``--model-tarball`` does the
same. ``code/`` holds ``inference.py`` and the modules the inference handler imports
(:mod:`pipeline_code.training.inference_code`), so the registered model serves with
``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code`` and needs no other S3 object.
``metadata.json`` records the data version (``DATA_VERSION``, else the train channel's
``data_version.json``) and the code version.

Hyperparameters: ``model_type`` (``hgb`` = HistGradientBoostingClassifier, or ``logistic``), ``learning_rate``, ``max_iter``, ``max_leaf_nodes``, ``max_depth``,
``l2_regularization``, ``C`` (logistic), ``random_state``, and early stopping (``hgb``):
``early_stopping`` (default true), ``validation_fraction`` (0.1) and ``n_iter_no_change`` (10).
Early stopping holds out ``validation_fraction`` of the training rows (stratified, seeded by
``random_state``, so training stays deterministic) and stops when the log loss on them has not
improved for ``n_iter_no_change`` iterations. It uses its own hold-out, not the validation
channel, so the validation metrics stay an unbiased check. ``metadata.json`` records in
``early_stopping`` whether it stopped early and at which iteration.

    SM_CHANNEL_TRAIN=out/splits/train SM_MODEL_DIR=out/model \\
        python -m pipeline_code.training.train --model_type hgb --max_iter 150
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tarfile
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..compat import UTC, extract_tar
from ..data.tables import read_table, resolve_schema
from ..schema import Schema
from .inference_code import CODE_DIR, copy_inference_code

MODEL_FILE = "model.joblib"
SCHEMA_FILE = "schema.json"
METADATA_FILE = "metadata.json"
HYPERPARAMETERS_FILE = Path("/opt/ml/input/config/hyperparameters.json")
FAILURE_FILE = Path("/opt/ml/output/failure")
DATA_VERSION_FILE = "data_version.json"  # written by preprocess next to each split
MODEL_TYPES: tuple[str, ...] = ("hgb", "logistic")
MIN_HOLDOUT_ROWS_PER_CLASS = 5  # early stopping's hold-out must hold this many of each class


class HyperparameterError(ValueError):
    """A hyperparameter has a wrong type or value. The message names it and the allowed values."""


@dataclass(frozen=True)
class Hyperparameters:
    """Validated training hyperparameters."""

    model_type: str = "hgb"
    learning_rate: float = 0.1
    max_iter: int = 200
    max_leaf_nodes: int = 31
    max_depth: int | None = None
    l2_regularization: float = 0.0
    C: float = 1.0
    random_state: int = 0
    early_stopping: bool = True
    validation_fraction: float = 0.1
    n_iter_no_change: int = 10

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Hyperparameters:
        """Build from strings or numbers (as SageMaker passes them); unknown names are an error."""
        fields = cls.__dataclass_fields__
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise HyperparameterError(
                f"unknown hyperparameters {unknown}; supported: {sorted(fields)}"
            )
        values: dict[str, Any] = {}
        for name, value in raw.items():
            values[name] = _convert(name, _decode(value), fields[name].type)
        hp = cls(**values)
        hp.validate()
        return hp

    def validate(self) -> None:
        """Raise :class:`HyperparameterError` for out-of-range values."""
        if self.model_type not in MODEL_TYPES:
            raise HyperparameterError(
                f"model_type is {self.model_type!r}; use one of {list(MODEL_TYPES)}"
            )
        checks: list[tuple[str, bool, str]] = [
            ("learning_rate", 0 < self.learning_rate <= 1, "between 0 (exclusive) and 1"),
            ("max_iter", self.max_iter >= 1, "at least 1"),
            ("max_leaf_nodes", self.max_leaf_nodes >= 2, "at least 2"),
            ("max_depth", self.max_depth is None or self.max_depth >= 1, "at least 1 (or unset)"),
            ("l2_regularization", self.l2_regularization >= 0, "0 or more"),
            ("C", self.C > 0, "greater than 0"),
            (
                "validation_fraction",
                0 < self.validation_fraction < 1,
                "between 0 and 1 (exclusive), e.g. 0.1",
            ),
            ("n_iter_no_change", self.n_iter_no_change >= 1, "at least 1"),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise HyperparameterError(
                    f"hyperparameter {name}={getattr(self, name)!r} must be {rule}"
                )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _decode(value: Any) -> Any:
    """SageMaker stores hyperparameters as strings, sometimes JSON-encoded (``"\\"hgb\\""``)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _convert(name: str, value: Any, annotation: Any) -> Any:
    kind = str(annotation)
    if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
        if "None" in kind:
            return None
        raise HyperparameterError(f"hyperparameter {name} needs a value, got {value!r}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise HyperparameterError(f"hyperparameter {name}={value!r} must be true or false")
    try:
        if kind.startswith("int"):
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind == "float":
            return float(value)
    except (TypeError, ValueError):
        expected = "an integer" if kind.startswith("int") else "a number"
        raise HyperparameterError(f"hyperparameter {name}={value!r} must be {expected}") from None
    return str(value)


def build_preprocessor(schema: Schema) -> ColumnTransformer:
    """Impute + scale numerics; one-hot categoricals and booleans.

    Categories come from the schema; values outside it encode as all zeros
    (``handle_unknown="ignore"``): rejecting them is the inference handler's job.
    """
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    cat_cols = schema.categorical_features
    categorical = OneHotEncoder(
        categories=[list(schema.column(c).allowed_categories) for c in cat_cols],
        handle_unknown="ignore",
        sparse_output=False,
    )
    transformers: list[tuple[str, Any, list[str]]] = []
    if schema.numeric_features:
        transformers.append(("numeric", numeric, schema.numeric_features))
    if cat_cols:
        transformers.append(("categorical", categorical, cat_cols))
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)


def build_pipeline(schema: Schema, hp: Hyperparameters) -> Pipeline:
    """Preprocessing (:func:`build_preprocessor`) + the model."""
    pre = build_preprocessor(schema)
    model: Any
    if hp.model_type == "hgb":
        model = HistGradientBoostingClassifier(
            learning_rate=hp.learning_rate,
            max_iter=hp.max_iter,
            max_leaf_nodes=hp.max_leaf_nodes,
            max_depth=hp.max_depth,
            l2_regularization=hp.l2_regularization,
            # Seeded hold-out: the same data and seed still give the same model.
            early_stopping=hp.early_stopping,
            validation_fraction=hp.validation_fraction if hp.early_stopping else None,
            n_iter_no_change=hp.n_iter_no_change,
            scoring="loss",
            random_state=hp.random_state,
        )
    else:
        model = LogisticRegression(C=hp.C, max_iter=2000, random_state=hp.random_state)
    return Pipeline([("preprocess", pre), ("model", model)])


def features_and_target(df: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, np.ndarray]:
    """``(X, y)``: exactly ``schema.feature_names`` (sensitive attributes excluded) and 0/1 labels."""
    return df[schema.feature_names], df[schema.target.name].to_numpy(dtype=np.int64)


def early_stopping_info(pipeline: Pipeline, hp: Hyperparameters) -> dict[str, Any]:
    """What early stopping did: ``enabled``, ``stopped_early``, ``iterations`` (fitted),
    ``best_iteration`` (lowest hold-out loss) and the settings; ``enabled`` is false for models
    without iterations to stop (``logistic``)."""
    model = pipeline.named_steps["model"]
    if not isinstance(model, HistGradientBoostingClassifier):
        return {
            "enabled": False,
            "stopped_early": False,
            "reason": f"{hp.model_type} has no boosting iterations",
        }
    n_iter = int(model.n_iter_)
    info: dict[str, Any] = {
        "enabled": bool(hp.early_stopping),
        "stopped_early": bool(hp.early_stopping) and n_iter < hp.max_iter,
        "iterations": n_iter,
        "max_iter": hp.max_iter,
    }
    if hp.early_stopping:
        scores = np.asarray(model.validation_score_, dtype=float)  # index i: after i iterations
        info.update(
            {
                "best_iteration": int(np.argmax(scores)) if len(scores) else None,
                "best_validation_loss": float(-scores.max()) if len(scores) else None,
                "scoring": "loss",
                "validation_fraction": hp.validation_fraction,
                "n_iter_no_change": hp.n_iter_no_change,
            }
        )
    return info


def quick_metrics(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy, F1 and AUC at threshold 0.5 (AUC is NaN when y has one class)."""
    pred = (proba >= 0.5).astype(int)
    auc = float(roc_auc_score(y, proba)) if len(np.unique(y)) == 2 else float("nan")
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "auc": auc,
    }


@dataclass(frozen=True)
class TrainResult:
    """Where the model went and how it scored on the validation channel (if given)."""

    model_dir: Path
    metadata: dict[str, Any]
    tarball: Path | None


def train(
    train_path: str | Path,
    model_dir: str | Path,
    schema: Schema,
    hp: Hyperparameters,
    *,
    validation_path: str | Path | None = None,
    code_version: str | None = None,
    data_version: str | None = None,
    tarball: str | Path | None = None,
) -> TrainResult:
    """Fit the pipeline and write ``model.joblib``, ``schema.json``, ``metadata.json`` and the
    serving code (``code/``).

    ``data_version`` defaults to the one in the training data's ``data_version.json``.
    """
    train_df = read_table(train_path, schema)
    x, y = features_and_target(train_df, schema)
    if len(np.unique(y)) < 2:
        # Name the user's label values (the file's), not the encoded 0/1.
        labels = {1: schema.target.positive, 0: schema.target.negative}
        holds = "no rows"
        if len(y):
            present = int(y[0])
            holds = (
                f"only {schema.target.name}={labels[present]} rows "
                f"(no {schema.target.name}={labels[1 - present]})"
            )
        raise ValueError(
            f"training data {str(train_path)!r} has {holds}; both classes "
            f"({labels[1]!r} and {labels[0]!r}) are needed"
        )
    fit_hp = hp
    skipped_early_stopping: str | None = None
    if hp.model_type == "hgb" and hp.early_stopping:
        smaller = int(min(np.bincount(y, minlength=2)))
        if smaller * hp.validation_fraction < MIN_HOLDOUT_ROWS_PER_CLASS:
            # Too few rows for a hold-out that says anything: train all max_iter iterations.
            fit_hp = replace(hp, early_stopping=False)
            skipped_early_stopping = (
                f"turned off: the smaller class has {smaller} rows, so a validation_fraction of "
                f"{hp.validation_fraction} would hold out fewer than {MIN_HOLDOUT_ROWS_PER_CLASS} "
                "of them"
            )
    pipeline = build_pipeline(schema, fit_hp)
    pipeline.fit(x, y)
    stopping = early_stopping_info(pipeline, fit_hp)
    if skipped_early_stopping:
        stopping["reason"] = skipped_early_stopping
    metrics = {"train": quick_metrics(y, pipeline.predict_proba(x)[:, 1])}
    validation_rows = 0
    if validation_path is not None:
        val_df = read_table(validation_path, schema)
        xv, yv = features_and_target(val_df, schema)
        metrics["validation"] = quick_metrics(yv, pipeline.predict_proba(xv)[:, 1])
        validation_rows = len(val_df)
    metadata: dict[str, Any] = {
        "schema_name": schema.name,
        "features": schema.feature_names,
        "positive_label": schema.target.positive,
        "decision_threshold": 0.5,
        "hyperparameters": hp.to_dict(),
        "training_rows": len(train_df),
        "validation_rows": validation_rows,
        "training_positive_rate": float(y.mean()),
        "metrics": metrics,
        "early_stopping": stopping,
        "library_versions": library_versions(),
        "code_version": code_version,
        "data_version": data_version or _data_version_of(train_path),
        "created_at": dt.datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = save_model_dir(model_dir, pipeline, schema, metadata)
    packed = package_model(out, tarball) if tarball is not None else None
    return TrainResult(model_dir=out, metadata=metadata, tarball=packed)


def library_versions(**more: str) -> dict[str, str]:
    """The versions that wrote a model (``metadata.json``): Python, the libraries, ``more``."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        **more,
    }


def save_model_dir(
    model_dir: str | Path,
    pipeline: Any,
    schema: Schema,
    metadata: Mapping[str, Any],
    *,
    extra_modules: Sequence[str] = (),
) -> Path:
    """Write the model folder: ``model.joblib``, ``schema.json``, ``metadata.json`` and the
    serving code (``code/``, with ``extra_modules`` the pickle needs beyond the handler's)."""
    out = Path(model_dir)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, out / MODEL_FILE)
    (out / SCHEMA_FILE).write_text(schema.to_json(), encoding="utf-8")
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    copy_inference_code(out, extra_modules=extra_modules)
    return out


def _data_version_of(train_path: str | Path) -> str | None:
    """``data_version`` from ``data_version.json`` beside the training data, if there is one."""
    path = Path(train_path)
    file = (path if path.is_dir() else path.parent) / DATA_VERSION_FILE
    if not file.is_file():
        return None
    try:
        value = json.loads(file.read_text(encoding="utf-8")).get("data_version")
    except (json.JSONDecodeError, AttributeError):
        return None
    return str(value) if value else None


def package_model(model_dir: str | Path, tarball: str | Path) -> Path:
    """Pack the model files and ``code/`` into ``model.tar.gz`` at the archive root, as
    SageMaker packs ``SM_MODEL_DIR``."""
    src = Path(model_dir)
    dest = Path(tarball)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        for name in (MODEL_FILE, SCHEMA_FILE, METADATA_FILE):
            if not (src / name).exists():
                raise FileNotFoundError(
                    f"{src / name} is missing; train the model before packaging it"
                )
            tar.add(src / name, arcname=name)
        code = src / CODE_DIR
        if code.is_dir():
            for path in sorted(p for p in code.rglob("*") if p.is_file()):
                tar.add(path, arcname=path.relative_to(src).as_posix())
    return dest


def load_model_dir(path: str | Path) -> tuple[Pipeline, Schema, dict[str, Any]]:
    """Load ``(pipeline, schema, metadata)`` from a model folder or a ``model.tar.gz``."""
    src = Path(path)
    if src.is_file():
        with tempfile.TemporaryDirectory(prefix="cdk-mlops-model-") as tmp:
            with tarfile.open(src, "r:gz") as tar:
                extract_tar(tar, tmp)  # no absolute paths or links out
            return load_model_dir(tmp)
    if not (src / MODEL_FILE).exists():
        raise FileNotFoundError(
            f"{str(path)!r} holds no {MODEL_FILE}; pass a model folder or model.tar.gz written by training"
        )
    pipeline = joblib.load(src / MODEL_FILE)
    schema = Schema.from_file(src / SCHEMA_FILE)
    metadata = json.loads((src / METADATA_FILE).read_text(encoding="utf-8"))
    return pipeline, schema, metadata


def _env_path(name: str, default: str) -> str:
    return os.environ.get(name, default)


def build_parser() -> argparse.ArgumentParser:
    """Paths from the SageMaker environment; hyperparameters as ``--name value``."""
    p = argparse.ArgumentParser(prog="train", description="Train the scikit-learn pipeline")
    p.add_argument("--model-dir", "--model_dir", default=_env_path("SM_MODEL_DIR", "/opt/ml/model"))
    p.add_argument("--train", default=_env_path("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    p.add_argument("--validation", default=os.environ.get("SM_CHANNEL_VALIDATION"))
    p.add_argument(
        "--schema", default=None, help="schema file or built-in name (default: <train>/schema.json)"
    )
    p.add_argument("--hyperparameters-file", default=str(HYPERPARAMETERS_FILE))
    p.add_argument(
        "--model-tarball", default=None, help="also write model.tar.gz here (local runs)"
    )
    p.add_argument("--code-version", default=os.environ.get("CODE_VERSION"))
    p.add_argument("--data-version", default=os.environ.get("DATA_VERSION") or None)
    p.add_argument("--failure-file", default=str(FAILURE_FILE))
    for name in Hyperparameters.__dataclass_fields__:
        p.add_argument(f"--{name}", dest=f"hp_{name}", default=None)
    return p


def resolve_hyperparameters(args: argparse.Namespace) -> Hyperparameters:
    """Defaults, then ``hyperparameters.json`` (if present), then command-line values."""
    raw: dict[str, Any] = {}
    hp_file = Path(args.hyperparameters_file)
    if hp_file.exists():
        try:
            loaded = json.loads(hp_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise HyperparameterError(f"{hp_file} is not valid JSON ({exc})") from None
        if not isinstance(loaded, dict):
            raise HyperparameterError(
                f"{hp_file} must hold a JSON object, got {type(loaded).__name__}"
            )
        # SageMaker adds its own sagemaker_* entries for script mode; they are not ours.
        raw.update({k: v for k, v in loaded.items() if not k.startswith("sagemaker_")})
    for name in Hyperparameters.__dataclass_fields__:
        value = getattr(args, f"hp_{name}")
        if value is not None:
            raw[name] = value
    return Hyperparameters.from_mapping(raw)


def main(argv: Sequence[str] | None = None) -> int:
    """Train from the command line. On failure, write the message to the failure file (if its
    folder exists, as on SageMaker) and exit with status 1."""
    args = build_parser().parse_args(argv)
    try:
        hp = resolve_hyperparameters(args)
        schema_arg = args.schema or Path(args.train) / SCHEMA_FILE
        schema = resolve_schema(schema_arg)
        result = train(
            args.train,
            args.model_dir,
            schema,
            hp,
            validation_path=args.validation,
            code_version=args.code_version,
            data_version=args.data_version,
            tarball=args.model_tarball,
        )
    except Exception as exc:
        failure = Path(args.failure_file)
        if failure.parent.is_dir():
            failure.write_text(
                f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", encoding="utf-8"
            )
        print(f"training failed: {exc}", file=sys.stderr)
        return 1
    # One line per metric in the form SageMaker metric definitions match (``validation:auc=0.87``).
    for split, values in result.metadata["metrics"].items():
        for name, value in values.items():
            print(f"{split}:{name}={value:.6f};", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
