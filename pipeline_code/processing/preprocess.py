"""Preprocess: the latest record per id, split by id into train/validation/test.

SageMaker Processing contract (every path overridable by an argument, so it runs locally)::

    /opt/ml/processing/input/data/          curated Parquet from the ETL (ingest_date= partitions)
    /opt/ml/processing/input/schema/schema.json
    /opt/ml/processing/train/               train.csv      + schema.json + data_version.json
    /opt/ml/processing/validation/          validation.csv + schema.json + data_version.json
    /opt/ml/processing/test/                test.csv       + schema.json + data_version.json

The curated zone holds one partition per night, so an id appears once per night it was
ingested. Preprocess keeps the latest record of each id (:mod:`pipeline_code.processing.dataset`)
and then splits **by id**: a salted sha256 of the id decides the split, so one id is in exactly
one split and stays in it on every later run (no copies of a customer in both train and test,
no customer moving from train to test as the data grows). The class balance of each split
follows from the hash, so it is close to, not exactly, the overall positive rate.

With ``--expected-data-version`` (default: the ``DATA_VERSION`` environment variable, which the
pipeline sets from the ``DataVersion`` step), preprocessing fails when the data it reads is not
that version: the curated data changed while the execution ran, and a cached result under the
old version would describe other data.

    python -m pipeline_code.processing.preprocess --input out/curated \\
        --schema pipeline_code/schemas/churn.json --output-dir out/splits
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.tables import TABLE_FORMATS, resolve_schema, write_table
from ..schema import Schema
from .dataset import dataset_fingerprint, id_buckets, read_curated

PROCESSING_ROOT = Path("/opt/ml/processing")
SPLITS: tuple[str, ...] = ("train", "validation", "test")
MIN_ROWS_PER_CLASS = 5
DATA_VERSION_ENV = "DATA_VERSION"
DATA_VERSION_FILE = "data_version.json"


class DataVersionMismatch(RuntimeError):
    """The data read is not the version the pipeline execution fingerprinted at its start."""


@dataclass(frozen=True)
class SplitResult:
    """Rows and positive rate of each split, where each was written, and the data version."""

    rows: dict[str, int]
    positive_rate: dict[str, float]
    paths: dict[str, str]
    data_version: str = ""
    rows_read: int = 0
    duplicates_dropped: int = 0
    partitions: tuple[str, ...] = field(default=())


def split_by_id(
    df: pd.DataFrame,
    schema: Schema,
    *,
    train_fraction: float = 0.7,
    validation_fraction: float = 0.15,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Split data with one row per id into ``train``/``validation``/``test`` by a hash of the id.

    An id's split depends only on the id and ``seed``, never on the other rows. Raises
    ``ValueError`` when fractions are invalid, an id is repeated, or a class (overall or in a
    split) has too few rows.
    """
    test_fraction = 1.0 - train_fraction - validation_fraction
    if not (0 < train_fraction < 1 and 0 < validation_fraction < 1 and test_fraction > 1e-9):
        raise ValueError(
            f"train_fraction={train_fraction} and validation_fraction={validation_fraction} must be "
            "between 0 and 1 and leave a positive share for test (e.g. 0.7 and 0.15)"
        )
    id_col, target = schema.id_column, schema.target.name
    repeated = df[id_col][df[id_col].duplicated()]
    if len(repeated):
        raise ValueError(
            f"id column {id_col!r} repeats {repeated.head(3).tolist()}; keep one record per id "
            "first (read_curated keeps the latest)"
        )
    counts = df[target].value_counts()
    # People read the label values of their own file, not our 0/1 encoding.
    label = {1: schema.target.positive, 0: schema.target.negative}
    for cls in (0, 1):
        if int(counts.get(cls, 0)) < MIN_ROWS_PER_CLASS:
            raise ValueError(
                f"{target}={label[cls]!r} has {int(counts.get(cls, 0))} rows; at least "
                f"{MIN_ROWS_PER_CLASS} are needed to split, so supply more (or more balanced) data"
            )
    ordered = df.sort_values(id_col, kind="mergesort").reset_index(drop=True)
    bucket = id_buckets(ordered[id_col], seed)
    masks = {
        "train": bucket < train_fraction,
        "validation": (bucket >= train_fraction) & (bucket < train_fraction + validation_fraction),
        "test": bucket >= train_fraction + validation_fraction,
    }
    parts = {name: ordered[mask].reset_index(drop=True) for name, mask in masks.items()}
    for name, part in parts.items():
        present = set(part[target].unique().tolist())
        if present != {0, 1}:
            raise ValueError(
                f"split {name!r} has {len(part)} rows and only "
                f"{sorted(repr(label[c]) for c in present)} of {target!r}; "
                "every split needs both classes, so supply more ids (or change the fractions)"
            )
    return parts


def preprocess(
    input_path: str | Path,
    schema: Schema,
    output_dirs: dict[str, Path],
    *,
    train_fraction: float = 0.7,
    validation_fraction: float = 0.15,
    seed: int = 0,
    fmt: str = "csv",
    expected_data_version: str | None = None,
) -> SplitResult:
    """Read the curated data (latest record per id), split it by id, and write each split with
    ``schema.json`` and ``data_version.json`` to its folder.

    Raises :class:`DataVersionMismatch` when ``expected_data_version`` is given and the data read
    has another fingerprint.
    """
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"--format {fmt!r} is not supported; use one of {list(TABLE_FORMATS)}")
    curated = read_curated(input_path, schema)
    version = dataset_fingerprint(curated.frame, schema)
    if expected_data_version and expected_data_version != version:
        raise DataVersionMismatch(
            f"the curated data under {str(input_path)!r} has version {version}, but this "
            f"execution started on version {expected_data_version} (DataVersion step): the data "
            "changed while the pipeline ran (e.g. the ETL wrote a partition). Start the "
            "execution again once the ETL has finished."
        )
    splits = split_by_id(
        curated.frame,
        schema,
        train_fraction=train_fraction,
        validation_fraction=validation_fraction,
        seed=seed,
    )
    provenance = {
        "data_version": version,
        "rows": len(curated.frame),
        "rows_read": curated.rows_read,
        "duplicates_dropped": curated.duplicates_dropped,
        "partitions": list(curated.partitions),
    }
    paths: dict[str, str] = {}
    for name, frame in splits.items():
        out_dir = Path(output_dirs[name])
        paths[name] = str(write_table(frame, out_dir, name, fmt))
        (out_dir / "schema.json").write_text(schema.to_json(), encoding="utf-8")
        (out_dir / DATA_VERSION_FILE).write_text(
            json.dumps(provenance, indent=2) + "\n", encoding="utf-8"
        )
    return SplitResult(
        rows={k: len(v) for k, v in splits.items()},
        positive_rate={k: float(v[schema.target.name].mean()) for k, v in splits.items()},
        paths=paths,
        data_version=version,
        rows_read=curated.rows_read,
        duplicates_dropped=curated.duplicates_dropped,
        partitions=curated.partitions,
    )


def build_parser() -> argparse.ArgumentParser:
    """Arguments; defaults follow the SageMaker Processing paths."""
    p = argparse.ArgumentParser(
        prog="preprocess",
        description="Latest record per id, split by id into train/validation/test",
    )
    p.add_argument(
        "--input",
        default=str(PROCESSING_ROOT / "input" / "data"),
        help="curated data folder or file",
    )
    p.add_argument(
        "--schema",
        default=str(PROCESSING_ROOT / "input" / "schema" / "schema.json"),
        help="schema JSON file or built-in name",
    )
    p.add_argument(
        "--output-dir",
        default=str(PROCESSING_ROOT),
        help="base folder; splits go to <output-dir>/{train,validation,test}",
    )
    for name in SPLITS:
        p.add_argument(f"--{name}-dir", default=None, help=f"override the {name} output folder")
    p.add_argument("--train-fraction", type=float, default=0.7)
    p.add_argument("--validation-fraction", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=0, help="salt of the id hash that assigns splits")
    p.add_argument("--format", choices=TABLE_FORMATS, default="csv")
    p.add_argument(
        "--expected-data-version",
        default=os.environ.get(DATA_VERSION_ENV) or None,
        help=f"fail unless the data has this version (default: ${DATA_VERSION_ENV})",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for the Processing container; prints the split sizes as JSON."""
    args = build_parser().parse_args(argv)
    schema = resolve_schema(args.schema)
    base = Path(args.output_dir)
    dirs = {name: Path(getattr(args, f"{name}_dir") or base / name) for name in SPLITS}
    result = preprocess(
        args.input,
        schema,
        dirs,
        train_fraction=args.train_fraction,
        validation_fraction=args.validation_fraction,
        seed=args.seed,
        fmt=args.format,
        expected_data_version=args.expected_data_version,
    )
    summary = {
        "rows": result.rows,
        "positive_rate": result.positive_rate,
        "data_version": result.data_version,
        "duplicates_dropped": result.duplicates_dropped,
    }
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
