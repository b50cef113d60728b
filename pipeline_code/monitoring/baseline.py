"""Monitoring baseline: ``statistics.json`` and ``constraints.json`` in Model Monitor's formats.

Run it on the clean training data (what the model was fitted on). Numeric features get
Model Monitor's ``numerical_statistics`` (10 equal-width buckets between min and max under
``distribution.kll.buckets``) and a quantile sketch under ``distribution.kll.sketch.data``;
categorical and boolean features get ``string_statistics`` with categorical buckets.

About the sketch: it holds ``k`` exact quantiles of the column (a single "compactor level";
``parameters.c = 1.0`` marks that nothing was compacted), not a streaming KLL sketch; see
:mod:`pipeline_code.monitoring.stats`. The drift check reads it to compute the L-infinity
distance and PSI, and it also accepts a multi-level KLL sketch written by Model Monitor.

SageMaker Processing entry point (paths overridable)::

    python -m pipeline_code.monitoring.baseline \\
        --input /opt/ml/processing/input/baseline --schema /opt/ml/processing/input/schema/schema.json \\
        --output-dir /opt/ml/processing/output
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..schema import ColumnSpec, Schema
from . import formats
from .columns import coerce_numeric, normalize_strings
from .stats import (
    DEFAULT_SKETCH_SIZE,
    NumericSummary,
    equal_width_buckets,
    sketch_from_sorted,
    summarize_categorical,
    summarize_numeric,
)

DEFAULT_INPUT = "/opt/ml/processing/input/baseline"
DEFAULT_SCHEMA = "/opt/ml/processing/input/schema/schema.json"
DEFAULT_OUTPUT = "/opt/ml/processing/output"


def numeric_feature_statistics(
    name: str,
    type_name: str,
    *,
    num_present: int,
    num_missing: int,
    total: float,
    mean: float,
    std_dev: float,
    minimum: float,
    maximum: float,
    buckets: list[dict[str, float]],
    sketch_values: npt.NDArray[np.float64],
    sketch_size: int,
) -> dict[str, Any]:
    """One numeric entry of statistics.json (Model Monitor's ``numerical_statistics``)."""
    return {
        "name": name,
        "inferred_type": type_name,
        "numerical_statistics": {
            "common": {"num_present": int(num_present), "num_missing": int(num_missing)},
            "mean": mean,
            "sum": total,
            "std_dev": std_dev,
            "min": minimum,
            "max": maximum,
            "distribution": {
                "kll": {
                    "buckets": buckets,
                    "sketch": {
                        "parameters": {"c": 1.0, "k": float(sketch_size)},
                        "data": [sketch_values.tolist()],
                    },
                }
            },
        },
    }


def summary_statistics(
    name: str, type_name: str, summary: NumericSummary, num_missing: int, sketch_size: int
) -> dict[str, Any]:
    """statistics.json entry from a sorted column summary (exact quantiles)."""
    return numeric_feature_statistics(
        name,
        type_name,
        num_present=summary.num_present,
        num_missing=num_missing,
        total=summary.sum,
        mean=summary.mean,
        std_dev=summary.std_dev,
        minimum=summary.min,
        maximum=summary.max,
        buckets=equal_width_buckets(summary.sorted_values),
        sketch_values=sketch_from_sorted(summary.sorted_values, sketch_size),
        sketch_size=sketch_size,
    )


def build_baseline(
    df: pd.DataFrame,
    schema: Schema,
    *,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    threshold: float = formats.DEFAULT_THRESHOLD,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Compute the statistics and constraints documents for ``schema.feature_names`` of ``df``.

    Columns of ``df`` that are not features (id, target, sensitive attributes) are ignored.
    Raises ``ValueError`` naming the column when the data does not fit the schema.
    """
    if sketch_size < 2:
        raise ValueError(f"sketch_size must be at least 2, got {sketch_size}")
    missing = [c for c in schema.feature_names if c not in df.columns]
    if missing:
        raise ValueError(
            f"baseline data lacks feature columns {missing} of schema {schema.name!r}; it has "
            f"{list(df.columns)[:20]}. Pass the clean ETL/training data for this schema"
        )
    n = len(df)
    if n == 0:
        raise ValueError("baseline data has no rows; pass the clean training data")
    stats_features: list[dict[str, Any]] = []
    cons_features: list[dict[str, Any]] = []
    for spec in schema.features:
        type_name = formats.inferred_type(spec)
        if spec.is_numeric:
            stat, cons = _numeric_feature(df[spec.name], spec, type_name, sketch_size, n)
        else:
            stat, cons = _string_feature(df[spec.name], spec, n)
        stats_features.append(stat)
        cons_features.append(cons)
    statistics = {"version": 0.0, "dataset": {"item_count": n}, "features": stats_features}
    constraints = {
        "version": 0.0,
        "features": cons_features,
        "monitoring_config": formats.default_monitoring_config(threshold),
    }
    return statistics, constraints


def _numeric_feature(
    series: pd.Series, spec: ColumnSpec, type_name: str, sketch_size: int, n: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    col = coerce_numeric(series, integral=spec.type == "integer")
    if col.num_type_mismatch:
        kind = "non-numeric" if col.num_non_numeric else "non-integer"
        raise ValueError(
            f"baseline column {spec.name!r} ({spec.type}) has {col.num_type_mismatch} {kind} "
            f"values, e.g. {', '.join(col.examples)}; clean the data with the ETL step first"
        )
    summary = summarize_numeric(col.values)
    stat = summary_statistics(spec.name, type_name, summary, summary.num_missing, sketch_size)
    cons = {
        "name": spec.name,
        "inferred_type": type_name,
        "completeness": summary.num_present / n,
        "num_constraints": _num_constraints(spec, summary),
    }
    return stat, cons


def _num_constraints(spec: ColumnSpec, summary: NumericSummary) -> dict[str, Any]:
    """Model Monitor's ``is_non_negative`` plus the schema's inclusive ``min``/``max`` (an addition
    its format allows for bring-your-own containers; the drift check reports values outside
    them as ``value_range_check`` violations)."""
    out: dict[str, Any] = {"is_non_negative": bool(summary.num_present and summary.min >= 0)}
    if spec.min is not None:
        out["min"] = float(spec.min)
    if spec.max is not None:
        out["max"] = float(spec.max)
    return out


def _string_feature(
    series: pd.Series, spec: ColumnSpec, n: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    values = normalize_strings(series, boolean=spec.type == "boolean")
    allowed = spec.allowed_categories
    summary = summarize_categorical(values, allowed)
    if summary.unknown_counts:
        shown = dict(list(summary.unknown_counts.items())[:5])
        raise ValueError(
            f"baseline column {spec.name!r} has values outside the schema categories "
            f"{list(allowed)}: {shown} (value: count); clean the data with the ETL step or add "
            "the categories to the schema"
        )
    stat = {
        "name": spec.name,
        "inferred_type": formats.STRING,
        "string_statistics": {
            "common": {"num_present": summary.num_present, "num_missing": summary.num_missing},
            "distinct_count": summary.distinct_count,
            "distribution": {"categorical": {"buckets": summary.buckets()}},
        },
    }
    cons = {
        "name": spec.name,
        "inferred_type": formats.STRING,
        "completeness": summary.num_present / n,
        # the schema's categories, not only the observed ones: a rare but legal category is no drift
        "string_constraints": {"domains": list(allowed)},
    }
    return stat, cons


def run_baseline(
    df: pd.DataFrame,
    schema: Schema,
    output_dir: Path,
    *,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    threshold: float = formats.DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Write ``statistics.json``, ``constraints.json`` (and the ``schema.json`` used) to ``output_dir``.

    Returns ``{"statistics": ..., "constraints": ..., "statistics_path": ..., "constraints_path": ...,
    "schema_path": ..., "item_count": ...}``.
    """
    statistics, constraints = build_baseline(
        df, schema, sketch_size=sketch_size, threshold=threshold
    )
    out = Path(output_dir)
    stats_path = formats.write_json(out / formats.STATISTICS_FILE, statistics)
    cons_path = formats.write_json(out / formats.CONSTRAINTS_FILE, constraints)
    # the drift job reads the schema next to the baseline, so it needs no separate input
    schema_path = out / formats.SCHEMA_FILE
    schema_path.write_text(schema.to_json(), encoding="utf-8")
    return {
        "statistics": statistics,
        "constraints": constraints,
        "statistics_path": str(stats_path),
        "constraints_path": str(cons_path),
        "schema_path": str(schema_path),
        "item_count": statistics["dataset"]["item_count"],
    }


def read_table(path: Path, schema: Schema) -> pd.DataFrame:
    """Read a CSV or Parquet file, or a folder of them (partitioned Parquet included)."""
    p = Path(path)
    cat_dtypes = {c: str for c in schema.categorical_features}
    if p.is_file():
        if p.suffix == ".parquet":
            return pd.read_parquet(p)
        if p.suffix == ".csv":
            return pd.read_csv(p, dtype=cat_dtypes)
        raise ValueError(
            f"baseline input {str(p)!r} is neither .csv nor .parquet; convert it or pass a folder"
        )
    if not p.is_dir():
        raise FileNotFoundError(
            f"baseline input {str(p)!r} does not exist; pass a CSV/Parquet file or folder"
        )
    if any(p.rglob("*.parquet")):
        return pd.read_parquet(p)
    csvs = sorted(p.rglob("*.csv"))
    if not csvs:
        raise FileNotFoundError(f"baseline input folder {str(p)!r} has no .parquet or .csv files")
    return pd.concat([pd.read_csv(f, dtype=cat_dtypes) for f in csvs], ignore_index=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Processing-container entry point: read the baseline data, write the baseline files."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--input", default=DEFAULT_INPUT, help="CSV/Parquet file or folder (default %(default)s)"
    )
    parser.add_argument(
        "--schema", default=DEFAULT_SCHEMA, help="schema JSON file (default %(default)s)"
    )
    parser.add_argument(
        "--output-dir", default=DEFAULT_OUTPUT, help="where to write (default %(default)s)"
    )
    parser.add_argument("--threshold", type=float, default=formats.DEFAULT_THRESHOLD)
    parser.add_argument("--sketch-size", type=int, default=DEFAULT_SKETCH_SIZE)
    args = parser.parse_args(argv)
    try:
        schema = Schema.from_file(args.schema)
        df = read_table(Path(args.input), schema)
        result = run_baseline(
            df,
            schema,
            Path(args.output_dir),
            sketch_size=args.sketch_size,
            threshold=args.threshold,
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"baseline failed: {exc}", file=sys.stderr)
        return 2
    print(
        f"baseline of {result['item_count']} rows written to {args.output_dir} "
        f"({formats.STATISTICS_FILE}, {formats.CONSTRAINTS_FILE})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
