"""Encode the train and validation splits for SageMaker's XGBoost algorithm, in shards.

The built-in algorithm reads headerless CSV with the label in the first column and numbers only.
This step fits the training code's own preprocessing (:func:`~..training.train.
build_preprocessor`: median imputation with missing-value indicators, scaling, one-hot
categories from the schema) on the train split, encodes both splits with it and writes each as
``shards`` files of whole rows, so that a training job with ``ShardedByS3Key`` channels gives every
instance its own files (at least one per instance). The fitted preprocessor is kept
(``encoder/preprocessor.joblib``) for :mod:`..training.xgboost_package`, which puts the trained
booster behind it. Run it where the model is packaged (the XGBoost image), so the pickle is read
by the same library versions.

SageMaker Processing contract::

    /opt/ml/processing/input/train/        preprocess's train split (+ schema.json)
    /opt/ml/processing/input/validation/   preprocess's validation split
    /opt/ml/processing/output/train/       part-00000.csv ... (label, features; no header)
    /opt/ml/processing/output/validation/  part-00000.csv ...
    /opt/ml/processing/output/encoder/     preprocessor.joblib, features.json, schema.json

    python -m pipeline_code.processing.xgboost_input --train out/splits/train \\
        --validation out/splits/validation --shards 4 --output-dir out/xgboost
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np

from ..data.tables import read_table
from ..schema import Schema
from ..training.train import SCHEMA_FILE, build_preprocessor, features_and_target

PREPROCESSOR_FILE = "preprocessor.joblib"
FEATURES_FILE = "features.json"
MAX_SHARDS = 1000


@dataclass(frozen=True)
class EncodedSplits:
    """What was written: rows and files per split, and the encoded feature count."""

    rows: dict[str, int]
    files: dict[str, int]
    num_features: int


def _write_shards(matrix: np.ndarray, folder: Path, shards: int) -> int:
    """Rows of ``matrix`` (label first) in ``shards`` CSV files of contiguous rows; empty shards
    (fewer rows than shards) are not written. Returns the number of files."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for i, part in enumerate(np.array_split(matrix, shards)):
        if len(part) == 0:
            continue
        # repr-exact floats: the booster sees what the encoder computed
        np.savetxt(folder / f"part-{i:05d}.csv", part, delimiter=",", fmt="%.17g")
        written += 1
    return written


def encode_splits(
    train_dir: str | Path,
    validation_dir: str | Path,
    schema: Schema,
    output_dir: str | Path,
    *,
    shards: int,
) -> EncodedSplits:
    """Fit the preprocessing on train, encode both splits into shards, keep the encoder."""
    if isinstance(shards, bool) or not isinstance(shards, int) or not 1 <= shards <= MAX_SHARDS:
        raise ValueError(
            f"--shards {shards!r} must be 1 to {MAX_SHARDS}: at least the training instance "
            "count, so that every instance gets data"
        )
    out = Path(output_dir)
    pre = build_preprocessor(schema)
    rows: dict[str, int] = {}
    files: dict[str, int] = {}
    num_features = 0
    for split, folder in (("train", train_dir), ("validation", validation_dir)):
        x, y = features_and_target(read_table(folder, schema), schema)
        if len(y) < shards:
            raise ValueError(
                f"the {split} split has {len(y)} rows, fewer than --shards {shards}: an instance "
                "would get no data; use fewer shards (and instances) or more data"
            )
        encoded = pre.fit_transform(x) if split == "train" else pre.transform(x)
        num_features = int(encoded.shape[1])
        matrix = np.column_stack([y.astype(float), np.asarray(encoded, dtype=float)])
        files[split] = _write_shards(matrix, out / split, shards)
        rows[split] = len(y)
    encoder = out / "encoder"
    encoder.mkdir(parents=True, exist_ok=True)
    joblib.dump(pre, encoder / PREPROCESSOR_FILE)
    (encoder / SCHEMA_FILE).write_text(schema.to_json(), encoding="utf-8")
    names = [str(n) for n in pre.get_feature_names_out()]
    (encoder / FEATURES_FILE).write_text(
        json.dumps({"num_features": num_features, "names": names, "rows": rows}, indent=2) + "\n",
        encoding="utf-8",
    )
    return EncodedSplits(rows=rows, files=files, num_features=num_features)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="xgboost_input", description="Encode train/validation for SageMaker XGBoost, sharded"
    )
    p.add_argument("--train", default="/opt/ml/processing/input/train")
    p.add_argument("--validation", default="/opt/ml/processing/input/validation")
    p.add_argument(
        "--schema", default=None, help="schema JSON (default: schema.json in the train folder)"
    )
    p.add_argument("--shards", type=int, default=2, help="files per split (default: 2)")
    p.add_argument("--output-dir", default="/opt/ml/processing/output")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    schema_path = Path(args.schema) if args.schema else Path(args.train) / SCHEMA_FILE
    try:
        schema = Schema.from_file(schema_path)
        result = encode_splits(
            args.train, args.validation, schema, args.output_dir, shards=args.shards
        )
    except (ValueError, OSError) as exc:
        print(f"xgboost_input failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"rows": result.rows, "files": result.files,
                      "num_features": result.num_features}))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
