"""Engine-independent parts of the ETL: the input contract, the quarantine budget, the result.

Both engines (Spark and pandas) call the same checks here, so a malformed file, a blown
quarantine budget or a biased quarantine gives the same message on either.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..schema import Schema
from . import reasons as R
from .reasons import split_reasons

INGEST_PARTITION = "ingest_date"

#: The default quarantine budget: the ETL fails when more than this fraction of rows is bad.
DEFAULT_MAX_QUARANTINE_FRACTION = 0.05
#: The class-mix warning needs an absolute gap in positive share of at least this much ...
CLASS_MIX_MIN_GAP = 0.10
#: ... and a two-proportion z-test p-value below this (few quarantined rows are not evidence).
CLASS_MIX_MAX_P_VALUE = 0.01
#: Reasons the budget error describes.
TOP_REASONS = 3

_DELIMITERS: dict[str, str] = {";": "semicolons", "\t": "tabs", "|": "pipes"}


class InputFormatError(ValueError):
    """The input cannot be read as the schema's CSV (empty, header only, wrong delimiter, ...)."""


class MissingColumnsError(InputFormatError):
    """The input lacks columns the schema requires. The message names them."""


class WrongDelimiterError(MissingColumnsError):
    """The header is one column that another delimiter (``;``, tab, ``|``) would split."""


class EmptyInputError(InputFormatError):
    """The input has no header row, or a header row and no data rows."""


class QuarantineBudgetExceeded(ValueError):
    """More rows were quarantined than ``max_quarantine_fraction`` allows.

    The message names the top reasons with a count, an example value, the column and a fix;
    :attr:`result` is the run's :class:`EtlResult` (the quarantine output is written).
    """

    def __init__(self, message: str, result: EtlResult) -> None:
        super().__init__(message)
        self.result = result


def empty_input(source: str) -> EmptyInputError:
    return EmptyInputError(
        f"{source} is empty (no header row, no data); the ETL needs a CSV with a header row "
        "naming the columns and at least one data row"
    )


def header_only(source: str) -> EmptyInputError:
    return EmptyInputError(
        f"{source} has a header row but no data rows; add the data or point the ETL at the "
        "file that holds it"
    )


def parse_csv_line(line: str) -> list[str]:
    """The fields of one CSV line (RFC 4180 quoting: ``"a,b"``, ``""`` for a quote)."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error:  # e.g. a NUL byte on older Pythons: one field, quarantined downstream
        return [line]


def check_input_columns(columns: Iterable[str], schema: Schema, *, source: str = "input") -> None:
    """Raise :class:`MissingColumnsError` unless every column of ``schema.all_columns`` is present.

    A header read as a single column that ``;``, a tab or ``|`` would split into schema columns
    raises :class:`WrongDelimiterError` saying so.
    """
    present = [c for c in columns if c not in R.INTERNAL_COLUMNS]
    missing = [c for c in schema.all_columns if c not in present]
    if not missing:
        return
    if len(present) == 1:
        for delimiter, name in _DELIMITERS.items():
            parts = [p.strip(R.WHITESPACE) for p in present[0].split(delimiter)]
            if len(parts) > 1 and len(set(parts) & set(schema.all_columns)) >= 2:
                raise WrongDelimiterError(
                    f"{source} looks separated by {name} ({delimiter!r}), not commas: its header "
                    f"reads as the single column {present[0]!r}; save the file as "
                    "comma-separated CSV"
                )
    raise MissingColumnsError(
        f"{source} is missing columns {missing} required by schema {schema.name!r} "
        f"(found {present}); add them to the data's header row or fix the schema file"
    )


def count_reasons(combined_counts: Mapping[str, int]) -> dict[str, int]:
    """Per-reason row counts from counts of ``;``-joined reason strings (a row may have several)."""
    out: dict[str, int] = {}
    for combined, n in combined_counts.items():
        for reason in split_reasons(combined):
            out[reason] = out.get(reason, 0) + int(n)
    return dict(sorted(out.items()))


def reason_column(reason: str, schema: Schema) -> str | None:
    """The input column whose value shows a reason (``None`` when no single column does)."""
    code, _, column = reason.partition(":")
    if column:
        return column
    if code in (R.MISSING_ID, R.DUPLICATE_ID):
        return schema.id_column
    if code in (R.MISSING_LABEL, R.INVALID_LABEL):
        return schema.target.name
    if code in (R.MISSING_TIMESTAMP, R.INVALID_TIMESTAMP):
        return schema.timestamp_column
    if code == R.MALFORMED_ROW:
        return R.EXTRA_FIELD_COLUMN
    return None


def fix_hint(reason: str, schema: Schema, value: str | None) -> str:
    """The likely fix for a quarantine reason, in the schema author's words."""
    code, _, column = reason.partition(":")
    spec = None
    if column:
        try:
            spec = schema.column(column)
        except KeyError:
            spec = None
    text = (value or "").strip(R.WHITESPACE)
    if code == R.MISSING_VALUE:
        return (
            f"{column!r} is empty in these rows; if missing values are expected, set "
            f'"nullable": true for {column!r} in the schema (the model imputes them)'
        )
    if code == R.INVALID_TYPE and spec is not None:
        if "," in text and "." not in text:
            return (
                f"{column!r} needs numbers; {text!r} is ambiguous (a thousands separator or a "
                "decimal comma?): write plain numbers such as 1234.5 (commas are accepted only "
                "as thousands groups with a dot decimal, e.g. 1,234.5)"
            )
        if spec.type == "integer":
            return (
                f"{column!r} is declared 'integer'; use type 'float' if fractions are real, or "
                "fix the values"
            )
        return f"{column!r} needs plain numbers such as 1234.5 or 1,234.5; fix the values"
    if code == R.OUT_OF_RANGE and spec is not None:
        return (
            f"{column!r} must lie in [{spec.min}, {spec.max}] (inclusive); widen min/max in "
            "the schema if these values are real"
        )
    if code == R.UNKNOWN_CATEGORY and spec is not None:
        allowed = list(spec.allowed_categories) or ["true", "false"]
        return (
            f"{column!r} allows {allowed[:10]} (matched exactly, case-sensitive; numeric codes "
            "match as numbers, 1 = 1.0); add the value to 'categories' in the schema if it is "
            "valid"
        )
    if code == R.INVALID_ENCODING:
        return "the file is not UTF-8 here; re-save it as UTF-8"
    if code == R.MISSING_ID:
        return f"every row needs an id in {schema.id_column!r}"
    if code == R.DUPLICATE_ID:
        return (
            f"ids in {schema.id_column!r} repeat (the first valid row is kept); if the file "
            "repeats rows remove the copies, else pick a unique id column"
        )
    if code in (R.MISSING_LABEL, R.INVALID_LABEL):
        return (
            f"the target {schema.target.name!r} must be {schema.target.positive!r} (positive) "
            f"or {schema.target.negative!r} (negative); fix target.positive/negative in the "
            "schema if the file spells them differently"
        )
    if code in (R.MISSING_TIMESTAMP, R.INVALID_TIMESTAMP):
        return "timestamps must be ISO dates such as 2024-01-31 or 2024-01-31T10:00:00Z"
    if code == R.MALFORMED_ROW:
        return "the line has more fields than the header; quote fields that contain commas"
    return "see the quarantine output"


def positive_share_gap(
    clean_rows: int, clean_positive: int, quarantined_rows: int, quarantined_positive: int
) -> tuple[float, float] | None:
    """(gap in positive share, two-sided p-value of a two-proportion z-test), or ``None``."""
    if clean_rows == 0 or quarantined_rows == 0:
        return None
    p_clean = clean_positive / clean_rows
    p_q = quarantined_positive / quarantined_rows
    pooled = (clean_positive + quarantined_positive) / (clean_rows + quarantined_rows)
    se = math.sqrt(pooled * (1 - pooled) * (1 / clean_rows + 1 / quarantined_rows))
    if se == 0.0:
        return (p_q - p_clean, 1.0)
    return (p_q - p_clean, math.erfc(abs(p_q - p_clean) / se / math.sqrt(2)))


@dataclass(frozen=True)
class EtlResult:
    """What one ETL run did. ``rows_in == rows_clean + rows_quarantined`` always holds.

    ``class_mix`` counts rows per class (clean rows, and quarantined rows whose label is
    readable); ``reason_examples`` has, per reason, the first quarantined row's value in the
    column that shows it (``column``, ``value``, ``file``, ``line``); ``warnings`` says when
    the quarantined rows' class mix differs from the clean rows' (a biased sample).
    """

    engine: str
    rows_in: int
    rows_clean: int
    rows_quarantined: int
    reason_counts: dict[str, int] = field(default_factory=dict)
    clean_path: str = ""
    quarantine_path: str = ""
    ingest_date: str = ""
    max_quarantine_fraction: float = DEFAULT_MAX_QUARANTINE_FRACTION
    reason_examples: dict[str, dict[str, Any]] = field(default_factory=dict)
    class_mix: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.rows_in != self.rows_clean + self.rows_quarantined:
            raise RuntimeError(
                f"ETL lost rows: {self.rows_in} in, {self.rows_clean} clean + {self.rows_quarantined} "
                "quarantined; this is a bug in the transform"
            )

    @property
    def quarantine_fraction(self) -> float:
        return self.rows_quarantined / self.rows_in if self.rows_in else 0.0

    def to_json(self) -> str:
        """The result as indented JSON (the Glue job logs it; run-local writes it as etl_report.json)."""
        return json.dumps(asdict(self), indent=2) + "\n"


def check_fraction(value: float, *, name: str = "max_quarantine_fraction") -> float:
    """``value`` if it is a fraction in [0, 1], else a ``ValueError`` naming it."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a fraction between 0 and 1, got {value!r}")
    return float(value)


def class_mix(
    schema: Schema,
    clean_rows: int,
    clean_positive: int,
    quarantined_labelled: int,
    quarantined_positive: int,
) -> tuple[dict[str, Any], list[str]]:
    """The ``class_mix`` record of :class:`EtlResult` and its warnings (a biased quarantine)."""
    mix: dict[str, Any] = {
        "positive_label": schema.target.positive,
        "clean_rows": clean_rows,
        "clean_positive": clean_positive,
        "quarantined_labelled_rows": quarantined_labelled,
        "quarantined_positive": quarantined_positive,
    }
    warnings: list[str] = []
    gap = positive_share_gap(clean_rows, clean_positive, quarantined_labelled, quarantined_positive)
    if gap is not None:
        diff, p_value = gap
        mix["positive_share_gap"] = round(diff, 6)
        mix["p_value"] = p_value
        if abs(diff) >= CLASS_MIX_MIN_GAP and p_value < CLASS_MIX_MAX_P_VALUE:
            warnings.append(
                f"biased quarantine: {quarantined_positive / quarantined_labelled:.0%} of the "
                f"{quarantined_labelled} quarantined rows with a label are positive "
                f"({schema.target.name}={schema.target.positive!r}) against "
                f"{clean_positive / clean_rows:.0%} of the {clean_rows} clean rows "
                f"(p={p_value:.2g}); the model would learn from a biased sample, so fix the "
                "top quarantine reasons rather than drop these rows"
            )
    return mix, warnings


def describe_reasons(result: EtlResult, schema: Schema, *, top: int = TOP_REASONS) -> list[str]:
    """One line per top reason: count, column, an example value with its place, the likely fix."""
    lines = []
    ranked = sorted(result.reason_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    for reason, count in ranked:
        example = result.reason_examples.get(reason, {})
        value = example.get("value")
        where = ""
        if example.get("line") is not None:
            where = f" (line {example['line']} of {example.get('file')})"
        column = example.get("column") or reason_column(reason, schema)
        shown = "a missing value" if value is None or not str(value).strip() else repr(value)
        lines.append(
            f"  - {reason}: {count} rows, e.g. {shown} in column {column!r}{where}; "
            f"fix: {fix_hint(reason, schema, value)}"
        )
    return lines


def check_quarantine_budget(result: EtlResult, schema: Schema) -> None:
    """Raise :class:`QuarantineBudgetExceeded` when too large a fraction of rows was quarantined."""
    if result.rows_in == 0 or result.quarantine_fraction <= result.max_quarantine_fraction:
        return
    message = [
        f"ETL quarantined {result.rows_quarantined} of {result.rows_in} rows "
        f"({result.quarantine_fraction:.1%}), more than the budget of "
        f"{result.max_quarantine_fraction:.1%} (max_quarantine_fraction, the "
        "--max-quarantine-fraction flag); the top reasons:",
        *describe_reasons(result, schema),
        *result.warnings,
        f"The quarantined rows and their reasons are in {result.quarantine_path}; nothing was "
        "written to the clean output. Raise the budget only if these rows really are bad.",
    ]
    raise QuarantineBudgetExceeded("\n".join(message), result)


def example_record(
    reason: str, schema: Schema, row: Mapping[str, Any], *, raw_prefix: str = ""
) -> dict[str, Any]:
    """The ``reason_examples`` entry for one quarantined row (raw columns, optionally prefixed)."""
    column = reason_column(reason, schema)
    value = row.get(raw_prefix + column) if column else None
    line = row.get(raw_prefix + R.SOURCE_LINE_COLUMN)
    # A field absent from a short line is NULL on Spark and "" on pandas: both are missing.
    missing = value is None or _is_nan(value) or value == ""
    return {
        "column": column,
        "value": None if missing else str(value),
        "file": row.get(raw_prefix + R.SOURCE_FILE_COLUMN),
        "line": None if line is None or _is_nan(line) else int(line),
    }


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
