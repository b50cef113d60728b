"""The Glue 5.0 (Spark 3.5) ETL transform: plain PySpark DataFrame code, no ``awsglue``.

Rules (the pandas engine in :mod:`pipeline_code.etl.pandas_transform` implements the same):

1. Every input column is read as a string and trimmed; blank values are missing. Files are
   read line by line (LF, CRLF or CR; blank lines skipped; a UTF-8 BOM dropped), the first
   line of each file is its header, and every row keeps its file and line number.
2. An empty file, a header without data rows and a header that another delimiter would split
   raise :class:`~pipeline_code.etl.common.InputFormatError` saying so; every column of
   ``schema.all_columns`` must exist, else :class:`MissingColumnsError`.
3. Per row, every problem becomes a reason (``;``-joined in ``quarantine_reason``):
   ``malformed_row`` (a CSV line with more fields than the header), ``missing_id``,
   ``missing_timestamp``/``invalid_timestamp``, and per column ``invalid_encoding:<c>``
   (bytes that are not UTF-8), ``missing_value:<c>`` (non-nullable), ``invalid_type:<c>``
   (not a number, not an integer, infinite; ``1,234.5`` is a number), ``out_of_range:<c>``,
   ``unknown_category:<c>`` (numeric codes match as numbers: 1, 1.0 and "1" are one code);
   then ``missing_label`` / ``invalid_label`` (neither the positive nor the negative label).
4. Among the rows with no problem, the first row of each id (input order) is kept and the
   others get ``duplicate_id``.
5. Clean rows: ``schema.all_columns``, numerics as double, booleans as ``"true"``/``"false"``,
   the target as 0/1 (1 = positive). Quarantined rows: the raw input columns plus the reason.

Rows in = clean rows + quarantined rows, always. More quarantined rows than
``max_quarantine_fraction`` fail the run (:class:`QuarantineBudgetExceeded`), and a quarantine
whose class mix differs from the clean rows' is reported as a warning.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from ..compat import UTC
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

_ROW = "__etl_row"
_CLASS = "__etl_class"
_VALID = "__etl_valid"
_RAW_PREFIX = "__raw__"
_CLEAN_PREFIX = "__clean__"


def _lit(text: str) -> str:
    """A Spark SQL string literal (backslashes and quotes escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _q(name: str) -> str:
    return f"`{name.replace('`', '``')}`"


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(_lit(v) for v in values)


def _number_sql(text: str) -> str:
    """SQL for the number ``text`` spells (thousands separators removed), NULL if none."""
    sep = _lit(R.THOUSANDS_SEPARATOR)
    return (
        f"CASE WHEN {text} RLIKE {_lit(R.NUMBER_PATTERN)} "
        f"THEN CAST(replace({text}, {sep}, '') AS DOUBLE) END"
    )


def _as_number(text: str) -> float:
    return float(text.replace(R.THOUSANDS_SEPARATOR, ""))


def _label_sql(text: str, label: str) -> str:
    """SQL that is true when ``text`` spells ``label`` (case-insensitive, or numerically equal)."""
    sql = f"coalesce(lower({text}) = {_lit(label.lower())}, false)"
    if re.fullmatch(R.NUMBER_PATTERN, label):
        sql = f"({sql} OR coalesce({_number_sql(text)} = {_as_number(label)!r}, false))"
    return sql


def _category_sql(text: str, col: ColumnSpec) -> str:
    """SQL for the schema's spelling of ``text``'s category (exact match first), NULL if none.

    Categories that are numbers also match by value, so a code listed as 1 matches data
    written 1, 1.0 or "1" (as in :func:`pipeline_code.etl.pandas_transform._category_values`).
    """
    sql = f"CASE WHEN {text} IN ({_in_list(col.categories)}) THEN {text}"
    codes: dict[float, str] = {}
    for category in col.categories:
        if re.fullmatch(R.NUMBER_PATTERN, category):
            codes.setdefault(_as_number(category), category)
    if codes:
        number = _number_sql(text)
        sql += "".join(f" WHEN {number} = {v!r} THEN {_lit(c)}" for v, c in codes.items())
    return sql + " END"


def _order(trimmed_names: list[str]) -> list[Any]:
    """Input order: file and line when the rows were read from files, else the row id."""
    if R.SOURCE_FILE_COLUMN in trimmed_names and R.SOURCE_LINE_COLUMN in trimmed_names:
        return [
            F.col(_q(_RAW_PREFIX + R.SOURCE_FILE_COLUMN)),
            F.col(_q(_RAW_PREFIX + R.SOURCE_LINE_COLUMN)),
        ]
    return [F.col(_ROW)]


def annotate(df: DataFrame, schema: Schema) -> DataFrame:
    """Add the clean value of each schema column and ``quarantine_reason`` (NULL = clean row).

    The result has the raw input columns renamed ``__raw__<name>``, the clean columns
    ``__clean__<name>``, ``quarantine_reason`` and ``__etl_class`` (1 positive, 0 negative,
    NULL unreadable label); :func:`transform` splits it.

    The rules are built as SQL expressions in a few staged projections: one py4j call per
    stage, and each trimmed or parsed value is computed once instead of once per check.
    """
    trimmed_names = [c.strip(R.WHITESPACE) for c in df.columns]
    check_input_columns(trimmed_names, schema)
    raw_names = [_RAW_PREFIX + n for n in trimmed_names]
    staged = df.toDF(*raw_names).withColumn(_ROW, F.monotonically_increasing_id())

    # Stage 1: trimmed text, NULL when blank or undecodable; the undecodable flags.
    used = [schema.id_column, schema.target.name, *(c.name for c in schema.typed_columns)]
    if schema.timestamp_column:
        used.append(schema.timestamp_column)
    trim = {name: f"__t_{i}" for i, name in enumerate(used)}
    enc = {name: f"__e_{i}" for i, name in enumerate(used)}
    stage1: list[str] = []
    for name in used:
        raw = f"CAST({_q(_RAW_PREFIX + name)} AS STRING)"
        bad = f"coalesce(instr({raw}, {_lit(R.REPLACEMENT_CHARACTER)}) > 0, false)"
        stage1.append(f"{bad} AS {enc[name]}")
        stage1.append(
            f"CASE WHEN {bad} THEN NULL ELSE nullif(btrim({raw}, {_lit(R.WHITESPACE)}), '') END "
            f"AS {trim[name]}"
        )
    staged = staged.selectExpr("*", *stage1)

    # Stage 2: parsed values and format flags.
    stage2: list[str] = []
    numeric = {c.name: f"__n_{i}" for i, c in enumerate(schema.typed_columns) if c.is_numeric}
    for name, alias in numeric.items():
        stage2.append(f"{_number_sql(trim[name])} AS {alias}")
    booleans = {
        c.name: f"__b_{i}" for i, c in enumerate(schema.typed_columns) if c.type == "boolean"
    }
    for name, alias in booleans.items():
        t = trim[name]
        stage2.append(
            f"CASE WHEN lower({t}) IN ({_in_list(R.TRUE_SPELLINGS)}) THEN 'true' "
            f"WHEN lower({t}) IN ({_in_list(R.FALSE_SPELLINGS)}) THEN 'false' END AS {alias}"
        )
    categories = {
        c.name: f"__k_{i}" for i, c in enumerate(schema.typed_columns) if c.type == "categorical"
    }
    for col in schema.typed_columns:
        if col.name in categories:
            stage2.append(f"{_category_sql(trim[col.name], col)} AS {categories[col.name]}")
    label_t = trim[schema.target.name]
    stage2.append(f"{_label_sql(label_t, schema.target.positive)} AS __pos")
    stage2.append(f"{_label_sql(label_t, schema.target.negative)} AS __neg")
    staged = staged.selectExpr("*", *stage2)

    # Stage 3: one boolean per check, and the clean values.
    checks: list[tuple[str, str]] = []
    if R.EXTRA_FIELD_COLUMN in trimmed_names:
        extra = _q(_RAW_PREFIX + R.EXTRA_FIELD_COLUMN)
        checks.append(
            (R.MALFORMED_ROW, f"nullif(btrim({extra}, {_lit(R.WHITESPACE)}), '') IS NOT NULL")
        )

    def missing(name: str) -> str:
        return f"{trim[name]} IS NULL AND NOT {enc[name]}"

    def encoding(name: str) -> tuple[str, str]:
        return (R.column_reason(R.INVALID_ENCODING, name), enc[name])

    checks.append(encoding(schema.id_column))
    checks.append((R.MISSING_ID, missing(schema.id_column)))
    clean: list[str] = [f"{trim[schema.id_column]} AS {_q(_CLEAN_PREFIX + schema.id_column)}"]
    if schema.timestamp_column:
        t = trim[schema.timestamp_column]
        # CAST to DATE gives NULL for impossible dates such as 2024-02-30 (no parser policy involved).
        date_ok = f"(coalesce({t} RLIKE {_lit(R.TIMESTAMP_PATTERN)}, false) AND CAST(substring({t}, 1, 10) AS DATE) IS NOT NULL)"
        checks.append(encoding(schema.timestamp_column))
        checks.append((R.MISSING_TIMESTAMP, missing(schema.timestamp_column)))
        checks.append((R.INVALID_TIMESTAMP, f"{t} IS NOT NULL AND NOT {date_ok}"))
        clean.append(f"{t} AS {_q(_CLEAN_PREFIX + schema.timestamp_column)}")
    for col in schema.typed_columns:
        t = trim[col.name]
        out_name = _q(_CLEAN_PREFIX + col.name)
        checks.append(encoding(col.name))
        if not col.nullable:
            checks.append((R.column_reason(R.MISSING_VALUE, col.name), missing(col.name)))
        if col.is_numeric:
            v = numeric[col.name]
            bad = f"({t} IS NOT NULL AND ({v} IS NULL OR abs({v}) = double('Infinity')"
            if col.type == "integer":
                bad += f" OR {v} != floor({v})"
            bad += "))"
            checks.append((R.column_reason(R.INVALID_TYPE, col.name), bad))
            limits = []
            if col.min is not None:
                limits.append(f"{v} < {col.min!r}")
            if col.max is not None:
                limits.append(f"{v} > {col.max!r}")
            if limits:
                in_type = f"{t} IS NOT NULL AND NOT {bad}"
                checks.append(
                    (
                        R.column_reason(R.OUT_OF_RANGE, col.name),
                        f"{in_type} AND ({' OR '.join(limits)})",
                    )
                )
            clean.append(f"CASE WHEN NOT {bad} THEN {v} END AS {out_name}")
        elif col.type == "boolean":
            b = booleans[col.name]
            checks.append(
                (R.column_reason(R.UNKNOWN_CATEGORY, col.name), f"{t} IS NOT NULL AND {b} IS NULL")
            )
            clean.append(f"{b} AS {out_name}")
        else:
            k = categories[col.name]
            checks.append(
                (R.column_reason(R.UNKNOWN_CATEGORY, col.name), f"{t} IS NOT NULL AND {k} IS NULL")
            )
            clean.append(f"{k} AS {out_name}")
    checks.append(encoding(schema.target.name))
    checks.append((R.MISSING_LABEL, missing(schema.target.name)))
    checks.append((R.INVALID_LABEL, f"{label_t} IS NOT NULL AND NOT __pos AND NOT __neg"))
    clean.append(
        f"CAST(CASE WHEN __pos THEN 1 ELSE 0 END AS INT) AS {_q(_CLEAN_PREFIX + schema.target.name)}"
    )
    clean.append(f"CAST(CASE WHEN __pos THEN 1 WHEN __neg THEN 0 END AS INT) AS {_CLASS}")

    flags = [f"coalesce({sql}, false) AS __c_{i}" for i, (_code, sql) in enumerate(checks)]
    staged = staged.selectExpr(*[_q(c) for c in raw_names], _ROW, *clean, *flags)

    # Stage 4: the joined reasons, then deduplication among the rows with none.
    joined = (
        "concat_ws("
        + ", ".join(
            [_lit(R.REASON_SEPARATOR)]
            + [f"CASE WHEN __c_{i} THEN {_lit(code)} END" for i, (code, _s) in enumerate(checks)]
        )
        + ")"
    )
    keep = [_q(c) for c in raw_names] + [_ROW] + [_q(_CLEAN_PREFIX + c) for c in schema.all_columns]
    staged = staged.selectExpr(*keep, _CLASS, f"nullif({joined}, '') AS {R.REASON_COLUMN}")
    staged = staged.withColumn(_VALID, F.col(R.REASON_COLUMN).isNull())
    # Partitioning by validity keeps invalid rows out of the duplicate count.
    window = Window.partitionBy(F.col(_q(_CLEAN_PREFIX + schema.id_column)), F.col(_VALID)).orderBy(
        *_order(trimmed_names)
    )
    is_dup = F.col(_VALID) & (F.row_number().over(window) > 1)
    staged = staged.withColumn(
        R.REASON_COLUMN, F.when(is_dup, F.lit(R.DUPLICATE_ID)).otherwise(F.col(R.REASON_COLUMN))
    )
    return staged.drop(_VALID)


def split(annotated: DataFrame, schema: Schema) -> tuple[DataFrame, DataFrame]:
    """``(clean, quarantine)`` from the output of :func:`annotate`."""
    reason = F.col(R.REASON_COLUMN)
    clean = annotated.where(reason.isNull()).select(
        *[F.col(f"`{_CLEAN_PREFIX}{c}`").alias(c) for c in schema.all_columns]
    )
    raw_cols = [c for c in annotated.columns if c.startswith(_RAW_PREFIX)]
    quarantine = annotated.where(reason.isNotNull()).select(
        *[F.col(f"`{c}`").alias(c[len(_RAW_PREFIX) :]) for c in raw_cols], reason
    )
    return clean, quarantine


def transform(df: DataFrame, schema: Schema) -> tuple[DataFrame, DataFrame]:
    """Split a DataFrame of raw strings into ``(clean_df, quarantine_df)`` by the schema's rules.

    Raises :class:`~pipeline_code.etl.common.MissingColumnsError` naming absent columns.
    """
    return split(annotate(df, schema), schema)


_VALUE = "__line_text"
_PART = "__part"
_ID = "__line_id"
# One line is one record, as Spark's CSV reader splits them by default; quotes as in RFC 4180
# ("" is a quote inside a quoted field), the way Python's csv module reads them.
_CSV_OPTIONS = {"mode": "PERMISSIVE", "escape": '"'}


def read_raw(
    spark: SparkSession, path: str, *, schema: Schema | None = None, source: str | None = None
) -> DataFrame:
    """Read CSV (file, folder or S3 prefix) with a header, every column as a string.

    Lines are read as text (UTF-8, undecodable bytes as U+FFFD, a BOM dropped; LF, CRLF or
    CR) so that every row keeps its ``__source_file`` and ``__source_line``; the first line of
    each file is its header (all files must share it), blank lines are skipped, and each line
    is parsed as CSV with one string column more than the header, ``__extra_field``, which
    catches the first surplus field of lines longer than the header.

    One small Spark job counts the lines per file and partition (for the line numbers) and
    reads the headers. Raises :class:`~pipeline_code.etl.common.EmptyInputError` when no file
    has a header, and, given ``schema``, :class:`MissingColumnsError` (or
    :class:`WrongDelimiterError`) for a header without the schema's columns, then
    :class:`EmptyInputError` when there are no data rows.
    """
    source = source or f"ETL input {path!r}"
    lines = spark.read.text(path).select(
        F.col("value").alias(_VALUE),
        F.input_file_name().alias(R.SOURCE_FILE_COLUMN),
        F.spark_partition_id().alias(_PART),
        F.monotonically_increasing_id().alias(_ID),
    )
    nonblank = f"btrim({_VALUE}, {_lit(R.WHITESPACE)}) != ''"
    stats = (
        lines.groupBy(R.SOURCE_FILE_COLUMN, _PART)
        .agg(
            F.min(_ID).alias("first"),
            F.count(F.lit(1)).alias("lines"),
            F.min_by(_VALUE, _ID).alias("head"),
            F.sum(F.expr(f"CASE WHEN {nonblank} THEN 1 ELSE 0 END")).alias("nonblank"),
        )
        .collect()
    )
    by_file: dict[str, list[Any]] = {}
    for row in stats:
        by_file.setdefault(row[R.SOURCE_FILE_COLUMN], []).append(row)
    offsets: list[tuple[str, int, int, int]] = []
    header: list[str] | None = None
    header_file = ""
    data_rows = 0
    for file in sorted(by_file):
        groups = sorted(by_file[file], key=lambda r: r["first"])
        done = 0
        for g in groups:
            offsets.append((file, int(g[_PART]), int(g["first"]), done))
            done += int(g["lines"])
        nonblank_lines = sum(int(g["nonblank"]) for g in groups)
        if nonblank_lines == 0:
            continue  # an empty file
        head = str(groups[0]["head"]).removeprefix("\ufeff")
        names = parse_csv_line(head)
        if header is None:
            header, header_file = names, file
        elif names != header:
            raise InputFormatError(
                f"{source}: {file!r} has the header {names} but {header_file!r} has {header}; "
                "the files of one input must share one header"
            )
        data_rows += nonblank_lines - (1 if head.strip(R.WHITESPACE) else 0)
    if header is None:
        raise empty_input(source)
    if schema is not None:
        check_input_columns([n.strip(R.WHITESPACE) for n in header], schema, source=source)
    if data_rows == 0:
        raise header_only(source)

    table = spark.createDataFrame(
        offsets, f"{R.SOURCE_FILE_COLUMN} string, {_PART} int, __first long, __offset long"
    )
    numbered = lines.join(F.broadcast(table), [R.SOURCE_FILE_COLUMN, _PART]).withColumn(
        R.SOURCE_LINE_COLUMN, F.col("__offset") + F.col(_ID) - F.col("__first") + F.lit(1)
    )
    data = numbered.where(f"{R.SOURCE_LINE_COLUMN} > 1 AND {nonblank}")
    names = [*header, R.EXTRA_FIELD_COLUMN]
    ddl = ", ".join(f"_c{i} STRING" for i in range(len(names)))
    record = F.from_csv(F.col(_VALUE), ddl, _CSV_OPTIONS)
    return data.select(
        *[record.getField(f"_c{i}").alias(name) for i, name in enumerate(names)],
        F.col(R.SOURCE_FILE_COLUMN),
        F.col(R.SOURCE_LINE_COLUMN),
    )


def _examples(annotated: DataFrame, schema: Schema) -> dict[str, dict[str, Any]]:
    """Per reason, the first quarantined row's value in the column that shows it (one job)."""
    raw_cols = [c for c in annotated.columns if c.startswith(_RAW_PREFIX)]
    trimmed = [c[len(_RAW_PREFIX) :] for c in raw_cols]
    exploded = annotated.where(F.col(R.REASON_COLUMN).isNotNull()).select(
        *[F.col(_q(c)) for c in raw_cols],
        F.col(_ROW),
        F.explode(F.split(F.col(R.REASON_COLUMN), R.REASON_SEPARATOR)).alias("__reason"),
    )
    window = Window.partitionBy("__reason").orderBy(*_order(trimmed))
    first = exploded.withColumn("__n", F.row_number().over(window)).where("__n = 1").collect()
    return {
        row["__reason"]: example_record(
            row["__reason"], schema, row.asDict(), raw_prefix=_RAW_PREFIX
        )
        for row in sorted(first, key=lambda r: str(r["__reason"]))
    }


def _write(frame: DataFrame, path: str, day: str) -> None:
    (
        frame.withColumn(INGEST_PARTITION, F.lit(day))
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .partitionBy(INGEST_PARTITION)
        .parquet(path)
    )


def run_etl(
    spark: SparkSession,
    input_path: str,
    output_path: str,
    quarantine_path: str,
    schema: Schema,
    *,
    ingest_date: str | None = None,
    max_quarantine_fraction: float = DEFAULT_MAX_QUARANTINE_FRACTION,
) -> EtlResult:
    """Read raw CSV, transform, write clean and quarantined rows as Parquet partitioned by
    ``ingest_date`` (that partition is overwritten, others kept), and return the counts.

    When more than ``max_quarantine_fraction`` of the rows is quarantined, only the quarantine
    is written and :class:`~pipeline_code.etl.common.QuarantineBudgetExceeded` names the top
    reasons. A quarantine whose class mix differs from the clean rows' is logged and listed in
    ``EtlResult.warnings``.

    Spark jobs over one cached annotation: the counts, the reason examples, the two writes
    (plus the small line-count job of :func:`read_raw`).
    """
    budget = check_fraction(max_quarantine_fraction)
    day = ingest_date or dt.datetime.now(UTC).date().isoformat()
    annotated = annotate(read_raw(spark, input_path, schema=schema), schema).cache()
    try:
        rows = annotated.groupBy(R.REASON_COLUMN, _CLASS).count().collect()
        combined: dict[str, int] = {}
        rows_clean = clean_positive = q_labelled = q_positive = 0
        for reason, label_class, count in rows:
            n = int(count)
            if reason is None:
                rows_clean += n
                clean_positive += n if label_class == 1 else 0
                continue
            combined[reason] = combined.get(reason, 0) + n
            if label_class is not None:
                q_labelled += n
                q_positive += n if label_class == 1 else 0
        rows_in = sum(int(r[2]) for r in rows)
        mix, warnings = class_mix(schema, rows_clean, clean_positive, q_labelled, q_positive)
        result = EtlResult(
            engine="spark",
            rows_in=rows_in,
            rows_clean=rows_clean,
            rows_quarantined=rows_in - rows_clean,
            reason_counts=count_reasons(combined),
            clean_path=output_path,
            quarantine_path=quarantine_path,
            ingest_date=day,
            max_quarantine_fraction=budget,
            reason_examples=_examples(annotated, schema) if combined else {},
            class_mix=mix,
            warnings=warnings,
        )
        clean, quarantine = split(annotated, schema)
        _write(quarantine, quarantine_path, day)
        for warning in warnings:
            LOG.warning(warning)
        check_quarantine_budget(result, schema)
        _write(clean, output_path, day)
    finally:
        annotated.unpersist()
    return result
