"""Quarantine reason codes shared by the Spark and pandas ETL and by the data generator.

A quarantined row carries every reason that applies, joined by ``;`` in the
``quarantine_reason`` column, e.g. ``"invalid_type:monthly_charges;missing_label"``.
Column-specific reasons are ``<code>:<column>``.
"""

from __future__ import annotations

from ..schema import NUMBER_PATTERN as NUMBER_PATTERN

REASON_COLUMN = "quarantine_reason"
REASON_SEPARATOR = ";"

MALFORMED_ROW = "malformed_row"
MISSING_ID = "missing_id"
DUPLICATE_ID = "duplicate_id"
MISSING_LABEL = "missing_label"
INVALID_LABEL = "invalid_label"
MISSING_TIMESTAMP = "missing_timestamp"
INVALID_TIMESTAMP = "invalid_timestamp"
MISSING_VALUE = "missing_value"
INVALID_TYPE = "invalid_type"
OUT_OF_RANGE = "out_of_range"
UNKNOWN_CATEGORY = "unknown_category"
# A value holding bytes that are not UTF-8 (read as U+FFFD, as Spark's reader does) or U+FFFD
# itself, which only a lossy conversion writes. The row is quarantined; nothing is replaced.
INVALID_ENCODING = "invalid_encoding"
REPLACEMENT_CHARACTER = "\ufffd"

ROW_REASONS: tuple[str, ...] = (
    MALFORMED_ROW,
    MISSING_ID,
    DUPLICATE_ID,
    MISSING_LABEL,
    INVALID_LABEL,
    MISSING_TIMESTAMP,
    INVALID_TIMESTAMP,
)
COLUMN_REASONS: tuple[str, ...] = (
    INVALID_ENCODING,
    MISSING_VALUE,
    INVALID_TYPE,
    OUT_OF_RANGE,
    UNKNOWN_CATEGORY,
)

# Raw CSV is read with one column more than its header: a value there means the line had more
# fields than the header (a stray delimiter, an unquoted comma), and the row is quarantined as
# malformed_row instead of being silently cut. Fewer fields than the header read as missing.
EXTRA_FIELD_COLUMN = "__extra_field"
# Where a row read from a file came from: the file (as a URI, ``file:///...`` or ``s3://...``)
# and its 1-based line number (the header is line 1). Both engines add them when they read
# files, so every quarantined row can be found in the raw data.
SOURCE_FILE_COLUMN = "__source_file"
SOURCE_LINE_COLUMN = "__source_line"
INTERNAL_COLUMNS: tuple[str, ...] = (EXTRA_FIELD_COLUMN, SOURCE_FILE_COLUMN, SOURCE_LINE_COLUMN)

# Strict grammars so that Spark (Java) and pandas (Python) accept exactly the same strings:
# Spark's cast alone would accept "1d" or "NaN", Python's float() accepts "1_000" or "inf".
# [0-9] rather than \d: Python's \d also matches non-ASCII digits, Java's does not.
# Numbers follow pipeline_code.schema.NUMBER_PATTERN (shared with serving): thousands
# separators only where unambiguous; the commas are removed before the cast.
THOUSANDS_SEPARATOR = ","
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?(Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9])?)?$"
)
# Booleans are written as "true"/"false" in clean data; these spellings are accepted on input.
TRUE_SPELLINGS: tuple[str, ...] = ("true", "t", "yes", "y", "1")
FALSE_SPELLINGS: tuple[str, ...] = ("false", "f", "no", "n", "0")
# Whitespace trimmed from every value: Java regex \s, so both engines agree.
WHITESPACE = " \t\n\x0b\f\r"


def column_reason(code: str, column: str) -> str:
    """The reason string for a column-specific problem, e.g. ``out_of_range:tenure_months``."""
    return f"{code}:{column}"


def split_reasons(value: str) -> list[str]:
    """The individual reasons of a ``quarantine_reason`` value."""
    return [r for r in value.split(REASON_SEPARATOR) if r]
