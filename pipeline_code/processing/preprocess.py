"""Preprocess: stratified, deterministic train/validation/test split of the curated data.

SageMaker Processing contract (every path overridable by an argument, so it runs locally)::

    /opt/ml/processing/input/data/          curated Parquet from the ETL (or CSV)
    /opt/ml/processing/input/schema/schema.json
    /opt/ml/processing/train/               train.csv        + schema.json
    /opt/ml/processing/validation/          validation.csv   + schema.json
    /opt/ml/processing/test/                test.csv         + schema.json

Rows are ordered by id before splitting, so the split does not depend on file order; each
class is split separately with a seeded permutation (stratification), so the positive rate
is the same in every split.

    python -m pipeline_code.processing.preprocess --input out/curated \\
        --schema pipeline_code/schemas/churn.json --output-dir out/splits
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline_code.data.tables import TABLE_FORMATS, read_table, resolve_schema, write_table
from pipeline_code.schema import Schema

PROCESSING_ROOT = Path("/opt/ml/processing")
SPLITS: tuple[str, ...] = ("train", "validation", "test")
MIN_ROWS_PER_CLASS = 5


@dataclass(frozen=True)
class SplitResult:
    """Rows and positive rate of each split, and where each was written."""

    rows: dict[str, int]
    positive_rate: dict[str, float]
    paths: dict[str, str]


def stratified_split(
    df: pd.DataFrame,
    schema: Schema,
    *,
    train_fraction: float = 0.7,
    validation_fraction: float = 0.15,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Split clean data into ``train``/``validation``/``test`` with the same positive rate in each.

    Raises ``ValueError`` when fractions are invalid or a class has too few rows to split.
    """
    test_fraction = 1.0 - train_fraction - validation_fraction
    if not (0 < train_fraction < 1 and 0 < validation_fraction < 1 and test_fraction > 1e-9):
        raise ValueError(
            f"train_fraction={train_fraction} and validation_fraction={validation_fraction} must be "
            "between 0 and 1 and leave a positive share for test (e.g. 0.7 and 0.15)"
        )
    target = schema.target.name
    counts = df[target].value_counts()
    for cls in (0, 1):
        if int(counts.get(cls, 0)) < MIN_ROWS_PER_CLASS:
            raise ValueError(
                f"class {cls} of target {target!r} has {int(counts.get(cls, 0))} rows; at least "
                f"{MIN_ROWS_PER_CLASS} are needed to split, so supply more (or more balanced) data"
            )
    ordered = df.sort_values(schema.id_column, kind="stable").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for cls in (0, 1):
        idx = np.flatnonzero(ordered[target].to_numpy() == cls)
        idx = idx[rng.permutation(len(idx))]
        n_train = round(len(idx) * train_fraction)
        n_val = max(1, round(len(idx) * validation_fraction))
        parts["train"].append(idx[:n_train])
        parts["validation"].append(idx[n_train : n_train + n_val])
        parts["test"].append(idx[n_train + n_val :])
    return {
        name: ordered.iloc[np.sort(np.concatenate(chunks))].reset_index(drop=True)
        for name, chunks in parts.items()
    }


def preprocess(
    input_path: str | Path,
    schema: Schema,
    output_dirs: dict[str, Path],
    *,
    train_fraction: float = 0.7,
    validation_fraction: float = 0.15,
    seed: int = 0,
    fmt: str = "csv",
) -> SplitResult:
    """Read the curated data, split it, and write each split plus ``schema.json`` to its folder."""
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"--format {fmt!r} is not supported; use one of {list(TABLE_FORMATS)}")
    df = read_table(input_path, schema)
    splits = stratified_split(
        df,
        schema,
        train_fraction=train_fraction,
        validation_fraction=validation_fraction,
        seed=seed,
    )
    paths: dict[str, str] = {}
    for name, frame in splits.items():
        out_dir = Path(output_dirs[name])
        paths[name] = str(write_table(frame, out_dir, name, fmt))
        (out_dir / "schema.json").write_text(schema.to_json(), encoding="utf-8")
    return SplitResult(
        rows={k: len(v) for k, v in splits.items()},
        positive_rate={k: float(v[schema.target.name].mean()) for k, v in splits.items()},
        paths=paths,
    )


def build_parser() -> argparse.ArgumentParser:
    """Arguments; defaults follow the SageMaker Processing paths."""
    p = argparse.ArgumentParser(
        prog="preprocess", description="Stratified train/validation/test split"
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
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=TABLE_FORMATS, default="csv")
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
    )
    print(json.dumps({"rows": result.rows, "positive_rate": result.positive_rate}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
