"""The ETL rules of :mod:`pipeline_code.etl.transform` in pandas, for runs without Spark.

Same checks, same reason strings in the same order, same dedup rule (first valid row of an
id wins), the same file reading (line splitting, BOM, blank lines, undecodable bytes, line
numbers) and the same errors for empty, header-only or wrongly delimited files, so
``cdk-mlops run-local --skip-spark`` gives the same clean rows as the Glue job. Tests run
both engines on one table of inputs and compare them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..compat import UTC, parse_floats
from ..schema import ColumnSpec, Schema
from . import reasons as R
from .common import (
    DEFAULT_MAX_QUARANTINE_FRACTION,
    INGEST_PARTITION,
    EtlResult,
    InputFormatError,
    check_fraction,
    check_input_columns,
    check_quarantine_budget,
    class_mix,
    count_reasons,
    empty_input,
    example_record,
    header_only,
    parse_csv_line,
)

LOG = logging.getLogger("pipeline_code.etl")

# Line breaks as Hadoop's line reader (Spark's text source) splits them: LF, CRLF or CR.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


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


def _bad_encoding(s: pd.Series) -> np.ndarray:
    """Values holding U+FFFD: bytes that were not UTF-8 (or an earlier lossy conversion)."""
    return np.fromiter(
        (isinstance(v, str) and R.REPLACEMENT_CHARACTER in v for v in s.astype(object)),
        dtype=bool,
        count=len(s),
    )


def _numeric(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(format ok, float value or NaN) for trimmed strings.

    Values are parsed like Spark's cast (correctly rounded; "1e999" is inf, which the caller
    rejects), not with ``pd.to_numeric``: on pandas 2 that is off by an ulp for about one value
    in seven and turns an overflow into NaN, which a nullable column would take as missing.
    Thousands separators (accepted by ``NUMBER_PATTERN`` only when unambiguous) are removed.
    """
    fmt_ok = _fullmatch(text, R.NUMBER_PATTERN)
    ok_text = text.where(fmt_ok, None)
    if len(ok_text):
        ok_text = ok_text.map(
            lambda v: v.replace(R.THOUSANDS_SEPARATOR, "") if isinstance(v, str) else v
        )
    values = parse_floats(ok_text)
    return fmt_ok, values


def _numeric_codes(col: ColumnSpec) -> dict[float, str]:
    """The categories that are numbers, by value: a code matches whether written 1, 1.0 or "1"."""
    codes: dict[float, str] = {}
    for category in col.categories:
        if re.fullmatch(R.NUMBER_PATTERN, category):
            codes.setdefault(float(category.replace(R.THOUSANDS_SEPARATOR, "")), category)
    return codes


def _category_values(text: pd.Series, col: ColumnSpec) -> pd.Series:
    """The schema's spelling of each value's category (exact match first), or None."""
    exact = text.where(text.isin(col.categories), None).astype(object)
    codes = _numeric_codes(col)
    if not codes or not len(text):
        return exact
    fmt_ok, values = _numeric(text)
    coded = values.map(codes)
    use = (exact.isna() & fmt_ok & coded.notna()).to_numpy()
    out = exact.to_numpy(dtype=object).copy()
    out[use] = coded.to_numpy(dtype=object)[use]
    return pd.Series(out, index=text.index, dtype=object)


def _label_matches(text: pd.Series, label: str) -> pd.Series:
    lower = text.str.lower()
    match = (lower == label.lower()).fillna(False).astype(bool)
    label_fmt_ok = bool(pd.Series([label]).str.fullmatch(R.NUMBER_PATTERN).iloc[0])
    if label_fmt_ok:
        fmt_ok, values = _numeric(text)
        match |= fmt_ok & (values == float(label.replace(R.THOUSANDS_SEPARATOR, "")))
    return match


def _text(raw: pd.DataFrame, name: str) -> tuple[pd.Series, np.ndarray]:
    """(trimmed text with None for missing or undecodable values, undecodable mask)."""
    bad = _bad_encoding(raw[name])
    text = _trim(raw[name])
    if bad.any():
        text = text.where(~bad, None)
    return text, bad


def _annotate(raw: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Clean columns, ``;``-joined reasons (None = clean) and the label's class (1, 0 or NaN)."""
    raw = raw.rename(columns=lambda c: str(c).strip(R.WHITESPACE))
    check_input_columns(raw.columns, schema)
    n = len(raw)
    checks: list[tuple[str, np.ndarray]] = []
    clean = pd.DataFrame(index=raw.index)

    def encoding_check(name: str, bad: np.ndarray) -> None:
        checks.append((R.column_reason(R.INVALID_ENCODING, name), bad))

    if R.EXTRA_FIELD_COLUMN in raw.columns:
        checks.append((R.MALFORMED_ROW, _trim(raw[R.EXTRA_FIELD_COLUMN]).notna().to_numpy()))

    ident, ident_enc = _text(raw, schema.id_column)
    encoding_check(schema.id_column, ident_enc)
    checks.append((R.MISSING_ID, ident.isna().to_numpy() & ~ident_enc))
    clean[schema.id_column] = ident

    if schema.timestamp_column:
        ts, ts_enc = _text(raw, schema.timestamp_column)
        fmt_ok = _fullmatch(ts, R.TIMESTAMP_PATTERN)
        dates = pd.to_datetime(ts.where(fmt_ok).str[:10], format="%Y-%m-%d", errors="coerce")
        encoding_check(schema.timestamp_column, ts_enc)
        checks.append((R.MISSING_TIMESTAMP, ts.isna().to_numpy() & ~ts_enc))
        checks.append((R.INVALID_TIMESTAMP, (ts.notna() & dates.isna()).to_numpy()))
        clean[schema.timestamp_column] = ts

    for col in schema.typed_columns:
        text, enc = _text(raw, col.name)
        present = text.notna()
        encoding_check(col.name, enc)
        if not col.nullable:
            missing = (~present).to_numpy() & ~enc
            checks.append((R.column_reason(R.MISSING_VALUE, col.name), missing))
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
            category = _category_values(text, col)
            checks.append(
                (
                    R.column_reason(R.UNKNOWN_CATEGORY, col.name),
                    (present & category.isna()).to_numpy(),
                )
            )
            clean[col.name] = category

    label, label_enc = _text(raw, schema.target.name)
    is_pos = _label_matches(label, schema.target.positive)
    is_neg = _label_matches(label, schema.target.negative)
    encoding_check(schema.target.name, label_enc)
    checks.append((R.MISSING_LABEL, label.isna().to_numpy() & ~label_enc))
    checks.append((R.INVALID_LABEL, (label.notna() & ~is_pos & ~is_neg).to_numpy()))
    clean[schema.target.name] = is_pos.astype("int32")
    label_class = pd.Series(np.where(is_pos, 1.0, np.where(is_neg, 0.0, np.nan)), index=raw.index)

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
    return clean[schema.all_columns], reasons, label_class


def annotate_pandas(raw: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, pd.Series]:
    """The typed clean columns for every row and the ``;``-joined reasons (None = clean)."""
    clean, reasons, _label_class = _annotate(raw, schema)
    return clean, reasons


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


def _lines(path: Path) -> list[str]:
    """The lines of a file as Spark's text source gives them: UTF-8 with undecodable bytes as
    U+FFFD, a leading BOM dropped, split at LF, CRLF or CR."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the final line break ends the last line
    return lines


def read_raw_files(files: list[Path], *, source: str = "input") -> pd.DataFrame:
    """Read CSV files as the Spark ETL reads them: every value a string exactly as written.

    The first line of each file is its header (all files must share it); blank lines are
    skipped; each line is one record (a quoted field cannot span lines, as on Spark). A line
    with more fields than the header keeps its first surplus field in ``__extra_field``; fewer
    fields read as missing. ``__source_file`` (a URI) and ``__source_line`` say where each row
    came from. Files with no non-blank line are skipped; raises :class:`EmptyInputError` when
    no file has a header.
    """
    header: list[str] | None = None
    header_file: Path | None = None
    frames: list[pd.DataFrame] = []
    for path in files:
        lines = _lines(path)
        if not any(line.strip(R.WHITESPACE) for line in lines):
            continue
        names = parse_csv_line(lines[0])
        if header is None:
            header, header_file = names, path
        elif names != header:
            raise InputFormatError(
                f"{source}: {str(path)!r} has the header {names} but {str(header_file)!r} has "
                f"{header}; the files of one input must share one header"
            )
        width = len(names) + 1
        rows: list[list[str | None]] = []
        numbers: list[int] = []
        for number, line in enumerate(lines[1:], start=2):
            if not line.strip(R.WHITESPACE):
                continue
            fields: list[str | None] = list(parse_csv_line(line))
            rows.append((fields + [None] * width)[:width])
            numbers.append(number)
        frame = pd.DataFrame(rows, columns=[*names, R.EXTRA_FIELD_COLUMN], dtype=object)
        frame[R.SOURCE_FILE_COLUMN] = path.resolve().as_uri()
        frame[R.SOURCE_LINE_COLUMN] = np.asarray(numbers, dtype="int64")
        frames.append(frame)
    if header is None:
        raise empty_input(source)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _examples(
    raw: pd.DataFrame, reasons: pd.Series, schema: Schema
) -> dict[str, dict[str, object]]:
    """Per reason, the first quarantined row's value in the column that shows it."""
    first: dict[str, int] = {}
    for position, combined in enumerate(reasons.to_numpy()):
        if combined is None:
            continue
        for reason in R.split_reasons(combined):
            first.setdefault(reason, position)
    return {
        reason: example_record(reason, schema, raw.iloc[position].to_dict())
        for reason, position in sorted(first.items())
    }


def run_etl_pandas(
    input_path: str | Path,
    output_path: str | Path,
    quarantine_path: str | Path,
    schema: Schema,
    *,
    ingest_date: str | None = None,
    max_quarantine_fraction: float = DEFAULT_MAX_QUARANTINE_FRACTION,
) -> EtlResult:
    """Read raw CSV, transform it, and write both outputs as Parquet partitioned by ``ingest_date``.

    The partition for ``ingest_date`` is replaced; other dates are kept (like Spark's dynamic
    partition overwrite). When more than ``max_quarantine_fraction`` of the rows is quarantined,
    only the quarantine is written and :class:`QuarantineBudgetExceeded` names the top reasons.
    A quarantine whose class mix differs from the clean rows' is logged and listed in
    ``EtlResult.warnings``.
    """
    budget = check_fraction(max_quarantine_fraction)
    day = ingest_date or dt.datetime.now(UTC).date().isoformat()
    src = Path(input_path)
    files = sorted(src.glob("*.csv")) if src.is_dir() else [src]
    if not files or not all(f.exists() for f in files):
        raise FileNotFoundError(
            f"ETL input {str(src)!r} has no CSV file; pass a CSV file or a folder of them"
        )
    source = f"ETL input {str(src)!r}"
    raw = read_raw_files(files, source=source)
    raw = raw.rename(columns=lambda c: str(c).strip(R.WHITESPACE))
    check_input_columns(raw.columns, schema, source=source)
    if not len(raw):
        raise header_only(source)
    clean_all, reasons, label_class = _annotate(raw, schema)
    bad = reasons.notna().to_numpy()
    clean = clean_all[~bad].reset_index(drop=True)
    quarantine = raw[bad].copy()
    quarantine[R.REASON_COLUMN] = reasons[bad]
    quarantine = quarantine.reset_index(drop=True)

    q_class = label_class[bad]
    mix, warnings = class_mix(
        schema,
        clean_rows=len(clean),
        clean_positive=int(clean[schema.target.name].sum()),
        quarantined_labelled=int(q_class.notna().sum()),
        quarantined_positive=int((q_class == 1.0).sum()),
    )
    result = EtlResult(
        engine="pandas",
        rows_in=len(raw),
        rows_clean=len(clean),
        rows_quarantined=len(quarantine),
        reason_counts=count_reasons(quarantine[R.REASON_COLUMN].value_counts().to_dict()),
        clean_path=str(output_path),
        quarantine_path=str(quarantine_path),
        ingest_date=day,
        max_quarantine_fraction=budget,
        reason_examples=_examples(raw, reasons, schema),
        class_mix=mix,
        warnings=warnings,
    )
    _write_partition(quarantine, Path(quarantine_path), day)
    for warning in warnings:
        LOG.warning(warning)
    check_quarantine_budget(result, schema)
    _write_partition(clean, Path(output_path), day)
    return result


def _write_partition(frame: pd.DataFrame, base: Path, day: str) -> None:
    part = base / f"{INGEST_PARTITION}={day}"
    if part.exists():
        shutil.rmtree(part)
    part.mkdir(parents=True)
    frame.to_parquet(part / "part-00000.parquet", index=False)
