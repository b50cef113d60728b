"""The Glue 5.0 (Spark 3.5) ETL transform: plain PySpark DataFrame code, no ``awsglue``.

Rules (the pandas engine in :mod:`pipeline_code.etl.pandas_transform` implements the same):

1. Every input column is read as a string and trimmed; blank values are missing.
2. Every column of ``schema.all_columns`` must exist, else :class:`MissingColumnsError`.
3. Per row, every problem becomes a reason (``;``-joined in ``quarantine_reason``):
   ``malformed_row`` (a CSV line with more fields than the header), ``missing_id``,
   ``missing_timestamp``/``invalid_timestamp``, and per column ``missing_value:<c>``
   (non-nullable), ``invalid_type:<c>`` (not a number, not an integer,
   infinite), ``out_of_range:<c>``, ``unknown_category:<c>``; then ``missing_label`` /
   ``invalid_label`` (neither the positive nor the negative label).
4. Among the rows with no problem, the first row of each id (input order) is kept and the
   others get ``duplicate_id``.
5. Clean rows: ``schema.all_columns``, numerics as double, booleans as ``"true"``/``"false"``,
   the target as 0/1 (1 = positive). Quarantined rows: the raw input columns plus the reason.

Rows in = clean rows + quarantined rows, always.
"""

from __future__ import annotations

import datetime as dt
import re

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from pipeline_code.compat import UTC
from pipeline_code.etl import reasons as R
from pipeline_code.etl.common import INGEST_PARTITION, EtlResult, check_input_columns, count_reasons
from pipeline_code.schema import Schema

_ROW = "__etl_row"
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


def _label_sql(text: str, label: str) -> str:
    """SQL that is true when ``text`` spells ``label`` (case-insensitive, or numerically equal)."""
    sql = f"coalesce(lower({text}) = {_lit(label.lower())}, false)"
    if re.fullmatch(R.NUMBER_PATTERN, label):
        num = f"CASE WHEN {text} RLIKE {_lit(R.NUMBER_PATTERN)} THEN CAST({text} AS DOUBLE) END"
        sql = f"({sql} OR coalesce({num} = {float(label)!r}, false))"
    return sql


def annotate(df: DataFrame, schema: Schema) -> DataFrame:
    """Add the clean value of each schema column and ``quarantine_reason`` (NULL = clean row).

    The result has the raw input columns renamed ``__raw__<name>``, the clean columns
    ``__clean__<name>``, and ``quarantine_reason``; :func:`transform` splits it.

    The rules are built as SQL expressions in a few staged projections: one py4j call per
    stage, and each trimmed or parsed value is computed once instead of once per check.
    """
    trimmed_names = [c.strip(R.WHITESPACE) for c in df.columns]
    check_input_columns(trimmed_names, schema)
    raw_names = [_RAW_PREFIX + n for n in trimmed_names]
    staged = df.toDF(*raw_names).withColumn(_ROW, F.monotonically_increasing_id())

    # Stage 1: trimmed text, NULL when blank.
    used = [schema.id_column, schema.target.name, *(c.name for c in schema.typed_columns)]
    if schema.timestamp_column:
        used.append(schema.timestamp_column)
    trim = {name: f"__t_{i}" for i, name in enumerate(used)}
    staged = staged.selectExpr(
        "*",
        *[
            f"nullif(btrim(CAST({_q(_RAW_PREFIX + name)} AS STRING), {_lit(R.WHITESPACE)}), '') AS {alias}"
            for name, alias in trim.items()
        ],
    )

    # Stage 2: parsed values and format flags.
    stage2: list[str] = []
    numeric = {c.name: f"__n_{i}" for i, c in enumerate(schema.typed_columns) if c.is_numeric}
    for name, alias in numeric.items():
        t = trim[name]
        stage2.append(
            f"CASE WHEN {t} RLIKE {_lit(R.NUMBER_PATTERN)} THEN CAST({t} AS DOUBLE) END AS {alias}"
        )
    booleans = {
        c.name: f"__b_{i}" for i, c in enumerate(schema.typed_columns) if c.type == "boolean"
    }
    for name, alias in booleans.items():
        t = trim[name]
        stage2.append(
            f"CASE WHEN lower({t}) IN ({_in_list(R.TRUE_SPELLINGS)}) THEN 'true' "
            f"WHEN lower({t}) IN ({_in_list(R.FALSE_SPELLINGS)}) THEN 'false' END AS {alias}"
        )
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
    checks.append((R.MISSING_ID, f"{trim[schema.id_column]} IS NULL"))
    clean: list[str] = [f"{trim[schema.id_column]} AS {_q(_CLEAN_PREFIX + schema.id_column)}"]
    if schema.timestamp_column:
        t = trim[schema.timestamp_column]
        # CAST to DATE gives NULL for impossible dates such as 2024-02-30 (no parser policy involved).
        date_ok = f"(coalesce({t} RLIKE {_lit(R.TIMESTAMP_PATTERN)}, false) AND CAST(substring({t}, 1, 10) AS DATE) IS NOT NULL)"
        checks.append((R.MISSING_TIMESTAMP, f"{t} IS NULL"))
        checks.append((R.INVALID_TIMESTAMP, f"{t} IS NOT NULL AND NOT {date_ok}"))
        clean.append(f"{t} AS {_q(_CLEAN_PREFIX + schema.timestamp_column)}")
    for col in schema.typed_columns:
        t = trim[col.name]
        out_name = _q(_CLEAN_PREFIX + col.name)
        if not col.nullable:
            checks.append((R.column_reason(R.MISSING_VALUE, col.name), f"{t} IS NULL"))
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
            known = f"{t} IN ({_in_list(col.categories)})"
            checks.append(
                (R.column_reason(R.UNKNOWN_CATEGORY, col.name), f"{t} IS NOT NULL AND NOT {known}")
            )
            clean.append(f"CASE WHEN {known} THEN {t} END AS {out_name}")
    checks.append((R.MISSING_LABEL, f"{label_t} IS NULL"))
    checks.append((R.INVALID_LABEL, f"{label_t} IS NOT NULL AND NOT __pos AND NOT __neg"))
    clean.append(
        f"CAST(CASE WHEN __pos THEN 1 ELSE 0 END AS INT) AS {_q(_CLEAN_PREFIX + schema.target.name)}"
    )

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
    staged = staged.selectExpr(*keep, f"nullif({joined}, '') AS {R.REASON_COLUMN}")
    staged = staged.withColumn(_VALID, F.col(R.REASON_COLUMN).isNull())
    # Partitioning by validity keeps invalid rows out of the duplicate count.
    window = Window.partitionBy(F.col(_q(_CLEAN_PREFIX + schema.id_column)), F.col(_VALID)).orderBy(
        F.col(_ROW)
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


def read_raw(spark: SparkSession, path: str) -> DataFrame:
    """Read CSV (file, folder or S3 prefix) with a header, every column as a string.

    The header is read first (one small job); the data is then read with one string column
    more than the header, ``__extra_field``, which catches the first surplus field of lines
    longer than the header (Spark's CSV reader would otherwise drop surplus fields silently).
    """
    from pyspark.sql.types import StringType, StructField, StructType

    header = spark.read.option("header", "true").option("inferSchema", "false").csv(path).columns
    fields = [StructField(name, StringType()) for name in [*header, R.EXTRA_FIELD_COLUMN]]
    return (
        spark.read.schema(StructType(fields))
        .option("header", "true")
        .option("mode", "PERMISSIVE")
        .csv(path)
    )


def run_etl(
    spark: SparkSession,
    input_path: str,
    output_path: str,
    quarantine_path: str,
    schema: Schema,
    *,
    ingest_date: str | None = None,
) -> EtlResult:
    """Read raw CSV, transform, write clean and quarantined rows as Parquet partitioned by
    ``ingest_date`` (that partition is overwritten, others kept), and return the counts.

    Three Spark jobs over one cached annotation: the counts, the clean write, the quarantine write.
    """
    day = ingest_date or dt.datetime.now(UTC).date().isoformat()
    annotated = annotate(read_raw(spark, input_path), schema).cache()
    try:
        rows = annotated.groupBy(R.REASON_COLUMN).count().collect()
        combined = {r[0]: int(r[1]) for r in rows if r[0] is not None}
        rows_clean = sum(int(r[1]) for r in rows if r[0] is None)
        rows_in = sum(int(r[1]) for r in rows)
        clean, quarantine = split(annotated, schema)
        for frame, path in ((clean, output_path), (quarantine, quarantine_path)):
            (
                frame.withColumn(INGEST_PARTITION, F.lit(day))
                .write.mode("overwrite")
                .option("partitionOverwriteMode", "dynamic")
                .partitionBy(INGEST_PARTITION)
                .parquet(path)
            )
    finally:
        annotated.unpersist()
    return EtlResult(
        engine="spark",
        rows_in=rows_in,
        rows_clean=rows_clean,
        rows_quarantined=rows_in - rows_clean,
        reason_counts=count_reasons(combined),
        clean_path=output_path,
        quarantine_path=quarantine_path,
        ingest_date=day,
    )
