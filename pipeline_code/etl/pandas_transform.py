"""The ETL rules of :mod:`pipeline_code.etl.transform` in pandas, for runs without Spark.

Same checks, same reason strings in the same order, same dedup rule (first valid row of an
id wins), so ``cdk-mlops run-local --skip-spark`` gives the same clean rows as the Glue job.
A test runs both engines on one input and compares them.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline_code.compat import UTC, parse_floats
from pipeline_code.data.tables import read_raw_csv
from pipeline_code.etl import reasons as R
from pipeline_code.etl.common import INGEST_PARTITION, EtlResult, check_input_columns, count_reasons
from pipeline_code.schema import Schema


def _trim(s: pd.Series) -> pd.Series:
    """Trimmed strings with None for missing or blank values."""
    text = s.astype(object).where(s.notna(), None)
    stripped = text.map(lambda v: v.strip(R.WHITESPACE) if isinstance(v, str) else v)
    return stripped.where(stripped.notna() & (stripped != ""), None)


def _fullmatch(text: pd.Series, pattern: str) -> pd.Series:
    """Boolean mask: the (trimmed, possibly None) string matches ``pattern`` entirely."""
    if not len(text):
        return pd.Series(False, index=text.index, dtype=bool)
    # na=False instead of fillna(False): no object-to-bool downcast warning on pandas 2.2
    return text.str.fullmatch(pattern, na=False).astype(bool)


def _numeric(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(format ok, float value or NaN) for trimmed strings.

    Values are parsed like Spark's cast (correctly rounded; "1e999" is inf, which the caller
    rejects), not with ``pd.to_numeric``: on pandas 2 that is off by an ulp for about one value
    in seven and turns an overflow into NaN, which a nullable column would take as missing.
    """
    fmt_ok = _fullmatch(text, R.NUMBER_PATTERN)
    values = parse_floats(text.where(fmt_ok, None))
    return fmt_ok, values


def _label_matches(text: pd.Series, label: str) -> pd.Series:
    lower = text.str.lower()
    match = (lower == label.lower()).fillna(False).astype(bool)
    label_fmt_ok = bool(pd.Series([label]).str.fullmatch(R.NUMBER_PATTERN).iloc[0])
    if label_fmt_ok:
        fmt_ok, values = _numeric(text)
        match |= fmt_ok & (values == float(label))
    return match


def annotate_pandas(raw: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, pd.Series]:
    """The typed clean columns for every row and the ``;``-joined reasons (None = clean)."""
    raw = raw.rename(columns=lambda c: str(c).strip(R.WHITESPACE))
    check_input_columns(raw.columns, schema)
    n = len(raw)
    checks: list[tuple[str, np.ndarray]] = []
    clean = pd.DataFrame(index=raw.index)

    if R.EXTRA_FIELD_COLUMN in raw.columns:
        checks.append((R.MALFORMED_ROW, _trim(raw[R.EXTRA_FIELD_COLUMN]).notna().to_numpy()))

    ident = _trim(raw[schema.id_column])
    checks.append((R.MISSING_ID, ident.isna().to_numpy()))
    clean[schema.id_column] = ident

    if schema.timestamp_column:
        ts = _trim(raw[schema.timestamp_column])
        fmt_ok = _fullmatch(ts, R.TIMESTAMP_PATTERN)
        dates = pd.to_datetime(ts.where(fmt_ok).str[:10], format="%Y-%m-%d", errors="coerce")
        checks.append((R.MISSING_TIMESTAMP, ts.isna().to_numpy()))
        checks.append((R.INVALID_TIMESTAMP, (ts.notna() & dates.isna()).to_numpy()))
        clean[schema.timestamp_column] = ts

    for col in schema.typed_columns:
        text = _trim(raw[col.name])
        present = text.notna()
        if not col.nullable:
            checks.append((R.column_reason(R.MISSING_VALUE, col.name), (~present).to_numpy()))
        if col.is_numeric:
            fmt_ok, values = _numeric(text)
            bad = present & (~fmt_ok | ~np.isfinite(values.fillna(0.0)))
            if col.type == "integer":
                bad |= present & fmt_ok & (values != np.floor(values))
            checks.append((R.column_reason(R.INVALID_TYPE, col.name), bad.to_numpy()))
            ok = present & ~bad
            out = pd.Series(False, index=raw.index)
            if col.min is not None:
                out |= values < col.min
            if col.max is not None:
                out |= values > col.max
            checks.append((R.column_reason(R.OUT_OF_RANGE, col.name), (ok & out).to_numpy()))
            clean[col.name] = values.where(ok)
        elif col.type == "boolean":
            lower = text.str.lower()
            norm = pd.Series(None, index=raw.index, dtype=object)
            norm[lower.isin(R.TRUE_SPELLINGS)] = "true"
            norm[lower.isin(R.FALSE_SPELLINGS)] = "false"
            checks.append(
                (R.column_reason(R.UNKNOWN_CATEGORY, col.name), (present & norm.isna()).to_numpy())
            )
            clean[col.name] = norm
        else:
            known = text.isin(col.categories)
            checks.append(
                (R.column_reason(R.UNKNOWN_CATEGORY, col.name), (present & ~known).to_numpy())
            )
            clean[col.name] = text.where(known, None)

    label = _trim(raw[schema.target.name])
    is_pos = _label_matches(label, schema.target.positive)
    is_neg = _label_matches(label, schema.target.negative)
    checks.append((R.MISSING_LABEL, label.isna().to_numpy()))
    checks.append((R.INVALID_LABEL, (label.notna() & ~is_pos & ~is_neg).to_numpy()))
    clean[schema.target.name] = is_pos.astype("int32")

    masks = np.vstack([m for _, m in checks]) if checks else np.zeros((0, n), dtype=bool)
    valid = ~masks.any(axis=0)
    # Deduplicate among valid rows only: the first valid row of an id (input order) is kept.
    dup = np.zeros(n, dtype=bool)
    if valid.any():
        dup[valid] = ident[valid].duplicated(keep="first").to_numpy()
    masks = np.vstack([masks, dup[None, :]])
    codes = np.array([c for c, _ in checks] + [R.DUPLICATE_ID], dtype=object)
    reasons = pd.Series([None] * n, index=raw.index, dtype=object)
    for i in np.flatnonzero(masks.any(axis=0)):
        reasons.iat[i] = R.REASON_SEPARATOR.join(codes[masks[:, i]])
    return clean[schema.all_columns], reasons


def transform_pandas(raw: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split raw string data into ``(clean, quarantine)`` with the Spark transform's rules.

    ``clean`` has ``schema.all_columns`` with the clean dtypes; ``quarantine`` has the raw
    input columns unchanged plus ``quarantine_reason``.
    """
    clean, reasons = annotate_pandas(raw, schema)
    bad = reasons.notna()
    quarantine = raw[bad].copy()
    quarantine[R.REASON_COLUMN] = reasons[bad]
    return clean[~bad].reset_index(drop=True), quarantine.reset_index(drop=True)


def run_etl_pandas(
    input_path: str | Path,
    output_path: str | Path,
    quarantine_path: str | Path,
    schema: Schema,
    *,
    ingest_date: str | None = None,
) -> EtlResult:
    """Read a raw CSV, transform it, and write both outputs as Parquet partitioned by ``ingest_date``.

    The partition for ``ingest_date`` is replaced; other dates are kept (like Spark's dynamic
    partition overwrite).
    """
    day = ingest_date or dt.datetime.now(UTC).date().isoformat()
    src = Path(input_path)
    files = sorted(src.glob("*.csv")) if src.is_dir() else [src]
    if not files or not all(f.exists() for f in files):
        raise FileNotFoundError(
            f"ETL input {str(src)!r} has no CSV file; pass a CSV file or a folder of them"
        )
    raw = pd.concat(
        [read_raw_csv(f, extra_field_column=R.EXTRA_FIELD_COLUMN) for f in files], ignore_index=True
    )
    clean, quarantine = transform_pandas(raw, schema)
    for frame, base in ((clean, Path(output_path)), (quarantine, Path(quarantine_path))):
        part = base / f"{INGEST_PARTITION}={day}"
        if part.exists():
            shutil.rmtree(part)
        part.mkdir(parents=True)
        frame.to_parquet(part / "part-00000.parquet", index=False)
    reason_counts = count_reasons(quarantine[R.REASON_COLUMN].value_counts().to_dict())
    return EtlResult(
        engine="pandas",
        rows_in=len(raw),
        rows_clean=len(clean),
        rows_quarantined=len(quarantine),
        reason_counts=reason_counts,
        clean_path=str(output_path),
        quarantine_path=str(quarantine_path),
        ingest_date=day,
    )
