"""Draft a schema file from a CSV: ``cdk-mlops infer-schema data.csv [--target COL] [--id COL]``.

The draft is a starting point for review, never a contract to trust blindly: the ranges are the
observed minimum and maximum (and the schema's bounds are inclusive, so later data beyond them is
quarantined), the categories are the values seen, the id and target are guesses. The file it
writes says so in its ``description``, every column's ``description`` says what was observed,
and every point that needs a decision is printed on stderr.

The data is read the way the ETL reads it (:mod:`pipeline_code.etl.reasons`): a UTF-8 BOM is
dropped, undecodable bytes are reported (the ETL quarantines their rows as
``invalid_encoding``), only empty fields are missing values, numbers follow the ETL's grammar
(thousands separators only where unambiguous: ``1,001.5`` and ``1,234,567``, not ``1,001``),
numeric category codes match by value. A file separated by ``;``, a tab or ``|`` is read, with a
note that the ETL needs commas.

Standard library only, so it runs without the ``ml`` extra. The format is in docs/schema.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .etl import reasons as R
from .schema import Schema, SchemaError, parse_number

DEFAULT_MAX_CATEGORIES = 30
#: An integer column with at most this many distinct values may hold codes: the draft says so.
CODE_HINT_MAX_VALUES = 10
#: A numeric column may hold a few placeholders ("NA", "?") that the ETL would quarantine: at
#: most MAX_PLACEHOLDERS of them, in at most half the rows, with many more distinct numbers.
NUMERIC_SHARE = 0.5
MAX_PLACEHOLDERS = 5
DELIMITERS: dict[str, str] = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
_SAMPLE_LINES = 200
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_DECIMAL_COMMA_ONLY_RE = re.compile(r"^[+-]?[0-9]*,[0-9]+$")
_ID_NAME_RE = re.compile(r"(^|_)(id|key|uuid)$|^id_|[a-z]Id$", re.IGNORECASE)
_TARGET_NAMES = (
    "target",
    "label",
    "class",
    "y",
    "outcome",
    "churn",
    "churned",
    "default",
    "diagnosis",
    "survived",
    "fraud",
    "is_fraud",
)
_POSITIVE_WORDS = ("1", "true", "t", "yes", "y", "positive", "pos")
_SENSITIVE_HINTS = re.compile(
    r"(^|_)(sex|gender|age|race|ethnicity|religion|nationality|disability|marital)($|_)",
    re.IGNORECASE,
)

INFER_SCHEMA_HELP = "draft a schema file from a CSV, for review"
INFER_SCHEMA_DESCRIPTION = """\
Read a CSV and write a draft schema: the id column, the binary target and its positive class,
and each feature's type (integer, float, categorical, boolean) with its observed range or
categories and whether it has missing values. The draft is for review, not to be trusted
blindly: its description says it was inferred, each column's description says what was seen,
and every decision to check is printed on stderr (guessed id and target, a positive class
picked as the rarer value, integer columns that may be codes, placeholders such as NA that the
ETL would quarantine, columns left out).

Remember when reviewing: min and max are inclusive and are the observed extremes (widen them
if later data may go further); "nullable" is false unless the column had empty fields;
categories are matched exactly and case-sensitively (numeric codes by value: 2 = 2.0).

The file may start with a UTF-8 BOM and may be separated by ; or a tab or | (the ETL itself
needs commas: the output says so). The format is described in docs/schema.md.

example:
  cdk-mlops infer-schema data.csv --target churned --output schema.json
  cdk-mlops run-local --data data.csv --schema schema.json
"""


class InferError(ValueError):
    """The file cannot give a schema; the message names the file, the problem and the fix."""


@dataclass
class Table:
    """A CSV read as text, the way the ETL reads it."""

    path: Path
    header: list[str]
    rows: list[list[str | None]]
    line_numbers: list[int]
    delimiter: str
    notes: list[str] = field(default_factory=list)

    def column(self, index: int) -> list[str | None]:
        """Trimmed values of one column, None where empty, missing or undecodable."""
        out: list[str | None] = []
        for row in self.rows:
            v = row[index] if index < len(row) else None
            if v is not None:
                v = v.strip(R.WHITESPACE)
                if not v or R.REPLACEMENT_CHARACTER in v:
                    v = None
            out.append(v)
        return out


@dataclass
class Inferred:
    """The draft schema (a dict that :meth:`Schema.from_dict` accepts) and the review notes."""

    schema: dict[str, Any]
    notes: list[str]

    def to_json(self) -> str:
        return json.dumps(self.schema, indent=2, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------------- reading
def _split_lines(text: str) -> list[str]:
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _fields(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return [line]


def _detect_delimiter(lines: Sequence[str]) -> str:
    """Commas unless the header is one field and another delimiter splits the lines evenly."""
    sample = [line for line in lines[:_SAMPLE_LINES] if line.strip(R.WHITESPACE)]
    best, best_width = ",", 1
    for delimiter in DELIMITERS:
        widths = [len(_fields(line, delimiter)) for line in sample]
        width = widths[0]
        consistent = sum(w == width for w in widths) >= 0.8 * len(widths)
        if width > 1 and consistent:
            return delimiter
        if width > best_width:
            best, best_width = delimiter, width
    return best


def read_table(path: str | Path) -> Table:
    """Read ``path`` as the ETL would; raises :class:`InferError` for an unusable file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InferError(f"{str(p)!r} does not exist; pass the path of a CSV file") from None
    except IsADirectoryError:
        raise InferError(f"{str(p)!r} is a folder; pass the path of one CSV file") from None
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = _split_lines(text)
    numbered = [(i, line) for i, line in enumerate(lines, start=1) if line.strip(R.WHITESPACE)]
    if not numbered:
        raise InferError(
            f"{str(p)!r} is empty (no header row, no data); infer-schema needs a CSV with a "
            "header row naming the columns and data rows"
        )
    delimiter = _detect_delimiter([line for _, line in numbered])
    header = [h.strip(R.WHITESPACE) for h in _fields(numbered[0][1], delimiter)]
    if len(numbered) == 1:
        raise InferError(
            f"{str(p)!r} has a header row but no data rows; infer-schema needs data to see "
            "types, ranges and categories"
        )
    if len(header) < 2:
        raise InferError(
            f"{str(p)!r} reads as a single column {header[0]!r} (no comma, semicolon, tab or "
            "pipe separates its header); a data set needs an id, a target and features: save "
            "it as comma-separated CSV"
        )
    duplicated = sorted(name for name, n in Counter(header).items() if n > 1)
    if duplicated:
        raise InferError(
            f"{str(p)!r}: the header names {duplicated} more than once; give every column its "
            "own name"
        )
    notes: list[str] = []
    if delimiter != ",":
        notes.append(
            f"the file is separated by {DELIMITERS[delimiter]} ({delimiter!r}); the ETL reads "
            "comma-separated files only: re-save it as CSV with commas before run-local or "
            "the pipeline"
        )
    width = len(header)
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    long_lines: list[int] = []
    bad_bytes: list[int] = []
    for number, line in numbered[1:]:
        values: list[str | None] = list(_fields(line, delimiter))
        if len(values) > width:
            long_lines.append(number)
        if R.REPLACEMENT_CHARACTER in line:
            bad_bytes.append(number)
        rows.append((values + [None] * width)[:width])
        numbers.append(number)
    if bad_bytes:
        notes.append(
            f"{len(bad_bytes)} line(s) hold bytes that are not UTF-8 (first: line {bad_bytes[0]}); "
            "those values were ignored here and the ETL quarantines their rows as "
            "invalid_encoding: re-save the file as UTF-8"
        )
    if long_lines:
        notes.append(
            f"{len(long_lines)} line(s) have more fields than the header (first: line "
            f"{long_lines[0]}); the ETL quarantines them as malformed_row: quote values that "
            "contain the delimiter"
        )
    return Table(p, header, rows, numbers, delimiter, notes)


# ---------------------------------------------------------------------------------- columns
@dataclass
class _Column:
    name: str
    values: list[str | None]

    @property
    def present(self) -> list[str]:
        return [v for v in self.values if v is not None]

    @property
    def missing(self) -> int:
        return sum(v is None for v in self.values)


def _number(value: float, integer: bool) -> int | float:
    return int(value) if integer or value.is_integer() else value


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _rows_text(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _first_lines(table: Table, col: _Column, bad: set[str]) -> str:
    lines = [table.line_numbers[i] for i, v in enumerate(col.values) if v in bad][:3]
    return ", ".join(f"line {n}" for n in lines)


def _typed_column(
    table: Table, col: _Column, max_categories: int, notes: list[str]
) -> dict[str, Any] | None:
    """The schema entry for one feature column, or None (left out, with a note)."""
    present = col.present
    rows = len(col.values)
    if not present:
        notes.append(f"column {col.name!r} is empty in every row: left out of the schema")
        return None
    nullable = col.missing > 0
    counts = Counter(present)
    decimal_comma = (
        table.delimiter != ","
        and any(_DECIMAL_COMMA_ONLY_RE.match(v) for v in counts)
        and not any("," in v and "." in v for v in counts)
    )
    parsed = {v: _parse(v, decimal_comma) for v in counts}
    numeric_rows = sum(n for v, n in counts.items() if parsed[v] is not None)
    placeholders = sorted(v for v in counts if parsed[v] is None)
    observed = f"observed in {_rows_text(rows)}"
    if col.missing:
        observed += f", empty in {_rows_text(col.missing)}"
    entry: dict[str, Any] = {"name": col.name}
    text = ""
    if numeric_rows and (
        not placeholders
        or (
            numeric_rows >= NUMERIC_SHARE * len(present)
            and len(placeholders) <= MAX_PLACEHOLDERS
            and len(counts) - len(placeholders) > 2 * len(placeholders)
        )
    ):
        values = [x for x in parsed.values() if x is not None]
        integer = all(x.is_integer() for x in values) and not decimal_comma
        lo, hi = min(values), max(values)
        entry["type"] = "integer" if integer else "float"
        entry["min"], entry["max"] = _number(lo, integer), _number(hi, integer)
        text = (
            f"{observed}: {_fmt(lo)} to {_fmt(hi)} (min/max are these observed values, inclusive)"
        )
        if decimal_comma:
            example = next(v for v in counts if "," in v)
            text += "; written with a decimal comma, which the ETL does not read"
            notes.append(
                f"column {col.name!r} uses a decimal comma (e.g. {example!r}); the ETL reads "
                "numbers with a dot decimal only: re-save the file with dots (typed float here)"
            )
        if placeholders:
            nullable = True
            bad_rows = sum(counts[v] for v in placeholders)
            ambiguous = [v for v in placeholders if "," in v and "." not in v]
            hint = (
                " (a comma without a dot decimal is ambiguous: thousands separator or decimal "
                "comma? write 1001 or 1.001)"
                if ambiguous
                else ""
            )
            notes.append(
                f"column {col.name!r} is numeric but holds {placeholders} in "
                f"{_rows_text(bad_rows)} ({_first_lines(table, col, set(placeholders))}){hint}; the ETL "
                "reads only empty fields as missing and would quarantine these rows as "
                "invalid_type: replace them with empty fields (the draft marks the column nullable)"
            )
            text += f"; non-numbers {placeholders} must become empty fields"
        distinct = sorted(set(values))
        if (
            integer
            and 2 < len(distinct) <= CODE_HINT_MAX_VALUES
            and numeric_rows >= 3 * len(distinct)
        ):
            codes = [_number(x, True) for x in distinct]
            text += (
                f"; only {len(distinct)} distinct values {codes}: if they are codes rather than "
                f'amounts, use "type": "categorical", "categories": {codes}'
            )
            notes.append(
                f"column {col.name!r} holds only the whole numbers {codes}: typed integer; if "
                "these are codes (answers, classes) rather than amounts, make it categorical"
            )
    elif all(v.lower() in (*R.TRUE_SPELLINGS, *R.FALSE_SPELLINGS) for v in counts):
        entry["type"] = "boolean"
        text = f"{observed}: values {sorted(counts)} (any case)"
    elif len(counts) <= max_categories:
        categories = _categories(counts)
        entry["type"] = "categorical"
        entry["categories"] = categories
        text = f"{observed}: {len(categories)} categories (matched exactly, case-sensitive)"
        folded: dict[str, list[str]] = {}
        for c in categories:
            folded.setdefault(str(c).casefold(), []).append(str(c))
        clashes = [group for group in folded.values() if len(group) > 1]
        if clashes:
            notes.append(
                f"column {col.name!r} has categories that differ only in case {clashes}; the "
                "ETL matches categories exactly: unify them in the data if they mean the same"
            )
        rare = [c for c in categories if counts.get(str(c), 0) == 1]
        if rare and len(rare) < len(categories):
            text += f"; seen once: {rare[:5]}"
    else:
        notes.append(
            f"column {col.name!r} has {len(counts):,} distinct text values (more than "
            f"--max-categories {max_categories}): left out as free text or an identifier; add it "
            "by hand as categorical if it is one, or raise --max-categories"
        )
        return None
    if nullable:
        entry["nullable"] = True
    entry["description"] = text
    return entry


def _parse(value: str, decimal_comma: bool) -> float | None:
    if decimal_comma and _DECIMAL_COMMA_ONLY_RE.match(value):
        return parse_number(value.replace(",", "."))
    return parse_number(value)


def _categories(counts: Counter[str]) -> list[str | int | float]:
    """Distinct values, numeric codes once per value (1 and 1.0 are one category), sorted."""
    by_value: dict[float, str] = {}
    texts: list[str] = []
    for v in counts:
        x = parse_number(v)
        if x is None:
            texts.append(v)
        elif x not in by_value or counts[v] > counts[by_value[x]]:
            by_value[x] = v
    numbers: list[str | int | float] = [_number(x, False) for x in sorted(by_value)]
    return numbers + sorted(texts)


# ------------------------------------------------------------------------- id and target
def _is_unique(col: _Column) -> bool:
    return col.missing == 0 and len(set(col.values)) == len(col.values)


def _guess_id(columns: list[_Column], wanted: str | None, source: str, notes: list[str]) -> str:
    if wanted is not None:
        col = _find(columns, wanted, "--id", source)
        if col.missing:
            notes.append(
                f"id column {wanted!r} is empty in {_rows_text(col.missing)}; the ETL "
                "quarantines them as missing_id"
            )
        duplicates = len(col.present) - len(set(col.present))
        if duplicates:
            notes.append(
                f"id column {wanted!r} repeats values in {_rows_text(duplicates)}; the ETL keeps "
                "the first row per id and quarantines the rest as duplicate_id"
            )
        return wanted
    unique = [c for c in columns if _is_unique(c) and _NAME_RE.match(c.name)]
    named = [c for c in unique if _ID_NAME_RE.search(c.name)]
    not_float = [c for c in unique if all(_whole_or_text(v) for v in c.present)]
    candidates = named or not_float
    if not candidates:
        raise InferError(
            f"{source}: no column has a distinct value on every row to serve as the id; the "
            "pipeline needs one (deduplication, tracing quarantined rows): add an id column "
            "(e.g. a row number) to the file, or name one with --id"
        )
    pick = candidates[0]
    notes.append(
        f"id column guessed as {pick.name!r} (distinct on every row); pass --id to choose another"
    )
    return pick.name


def _whole_or_text(value: str) -> bool:
    x = parse_number(value)
    return x is None or x.is_integer()


def _find(columns: list[_Column], name: str, option: str, source: str) -> _Column:
    for c in columns:
        if c.name == name:
            return c
    raise InferError(
        f"{source}: {option} {name!r} is not a column; the header has {[c.name for c in columns]}"
    )


def _label_value(text: str) -> str | int | float:
    x = parse_number(text)
    return text if x is None else _number(x, False)


def _guess_target(
    columns: list[_Column], wanted: str | None, id_column: str, source: str, notes: list[str]
) -> dict[str, Any]:
    if wanted is not None:
        col = _find(columns, wanted, "--target", source)
    else:
        two = [c for c in columns if c.name != id_column and len(_label_classes(c)) == 2]
        named = [c for c in two if c.name.lower() in _TARGET_NAMES]
        if not two:
            raise InferError(
                f"{source}: no column has exactly two values to serve as the binary target; "
                "name the label column with --target"
            )
        col = (named or two[-1:])[0]
        notes.append(
            f"target guessed as {col.name!r} (two values; "
            f"{'a usual label name' if named else 'the last column with two values'}); pass "
            "--target to choose another"
        )
    classes = _label_classes(col)
    if len(classes) != 2:
        shown = sorted(classes)[:10]
        raise InferError(
            f"{source}: target {col.name!r} has {len(classes)} distinct values {shown}; "
            "cdk-mlops trains binary classifiers: pick a column with two values, or map the "
            "values to two classes in the file"
        )
    if not _NAME_RE.match(col.name):
        raise InferError(
            f"{source}: target {col.name!r} is not a valid schema name (letters, digits and "
            "underscores, not starting with a digit): rename it in the file's header"
        )
    (a, na), (b, nb) = sorted(classes.items(), key=lambda kv: (-kv[1], kv[0]))
    positive = next((v for v in (a, b) if v.lower() in _POSITIVE_WORDS), None)
    if positive is None:
        positive = b  # the rarer class: what a detector is usually for
        notes.append(
            f"target.positive guessed as the less frequent value {b!r} ({_rows_text(nb)}, "
            f"against {_rows_text(na)} of {a!r}); swap positive and negative if {a!r} is the "
            "class to detect"
        )
    negative = b if positive == a else a
    if col.missing:
        notes.append(
            f"target {col.name!r} is empty in {_rows_text(col.missing)}; the ETL quarantines "
            "them as missing_label"
        )
    return {
        "name": col.name,
        "positive": _label_value(positive),
        "negative": _label_value(negative),
    }


def _label_classes(col: _Column) -> dict[str, int]:
    """Distinct label values with their counts, numeric spellings merged by value."""
    merged: dict[str, int] = {}
    keys: dict[Any, str] = {}
    for v, n in Counter(col.present).items():
        x = parse_number(v)
        key: Any = ("n", x) if x is not None else ("s", v.lower())
        first = keys.setdefault(key, v)
        merged[first] = merged.get(first, 0) + n
    return merged


# ------------------------------------------------------------------------------ the draft
def _schema_name(path: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9_]+", "_", path.stem).strip("_") or "data"
    return name if _NAME_RE.match(name) else f"data_{name}"[:128]


def infer_schema(
    path: str | Path,
    *,
    target: str | None = None,
    id_column: str | None = None,
    name: str | None = None,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
) -> Inferred:
    """A draft schema for the CSV at ``path`` and the notes a reviewer must read."""
    if max_categories < 1:
        raise InferError(f"--max-categories must be at least 1, got {max_categories}")
    table = read_table(path)
    source = str(table.path)
    notes = list(table.notes)
    columns = [_Column(h, table.column(i)) for i, h in enumerate(table.header)]
    id_name = _guess_id(columns, id_column, source, notes)
    target_spec = _guess_target(columns, target, id_name, source, notes)
    if target_spec["name"] == id_name:
        raise InferError(f"{source}: {id_name!r} cannot be both the id and the target")
    if not _NAME_RE.match(id_name):
        raise InferError(
            f"{source}: id column {id_name!r} is not a valid schema name (letters, digits and "
            "underscores, not starting with a digit): rename it in the file's header"
        )
    timestamp: str | None = None
    features: list[dict[str, Any]] = []
    for col in columns:
        if col.name in (id_name, target_spec["name"]):
            continue
        if not _NAME_RE.match(col.name):
            fixed = re.sub(r"[^A-Za-z0-9_]+", "_", col.name).strip("_") or "column"
            notes.append(
                f"column {col.name!r} is not a valid schema name (letters, digits and "
                f"underscores, not starting with a digit): left out; rename it in the file's "
                f"header (e.g. {fixed!r}) to use it"
            )
            continue
        present = col.present
        if present and all(re.match(R.TIMESTAMP_PATTERN, v) for v in present):
            if timestamp is None:
                timestamp = col.name
                notes.append(
                    f"timestamp column guessed as {col.name!r} (ISO dates); it is not a feature"
                )
                if col.missing:
                    notes.append(
                        f"timestamp {col.name!r} is empty in {_rows_text(col.missing)}; the ETL "
                        "quarantines them as missing_timestamp"
                    )
            else:
                notes.append(f"column {col.name!r} holds dates: left out (one timestamp column)")
            continue
        entry = _typed_column(table, col, max_categories, notes)
        if entry is not None:
            features.append(entry)
    if not features:
        raise InferError(
            f"{source}: no column besides the id {id_name!r} and the target "
            f"{target_spec['name']!r} can be a feature; a model needs at least one"
        )
    sensitive = [f["name"] for f in features if _SENSITIVE_HINTS.search(f["name"])]
    if sensitive:
        notes.append(
            f"columns {sensitive} look like protected attributes: to measure bias on them "
            "instead of feeding them to the model, move them to sensitive_attributes (numeric "
            'ones need "bins", e.g. [18, 30, 45, 65]); see docs/schema.md'
        )
    rows = len(table.rows)
    draft: dict[str, Any] = {
        "name": name or _schema_name(table.path),
        "description": (
            f"INFERRED by cdk-mlops infer-schema from {table.path.name} ({_rows_text(rows)}): a "
            "draft to review, not a contract. Check the id, the target and its positive class, "
            "each type, each range (the observed min/max; bounds are inclusive) and each "
            "category list (exact, case-sensitive matches) before use, then replace this "
            "description. Format: docs/schema.md."
        ),
        "id_column": id_name,
        "target": target_spec,
    }
    if timestamp:
        draft["timestamp_column"] = timestamp
    draft["features"] = features
    try:
        Schema.from_dict(draft, source=source)
    except SchemaError as exc:  # pragma: no cover - a bug here, not in the data
        raise InferError(f"the inferred schema does not validate: {exc}") from exc
    return Inferred(draft, notes)


# ------------------------------------------------------------------------------------ CLI
def add_infer_schema_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", help="the CSV file to read")
    parser.add_argument("--target", help="the binary label column (guessed when left out)")
    parser.add_argument("--id", dest="id_column", help="the id column (guessed when left out)")
    parser.add_argument(
        "--output", help="where to write the schema JSON (default: print it on stdout)"
    )
    parser.add_argument("--name", help="the schema's name (default: from the file name)")
    parser.add_argument(
        "--max-categories",
        type=int,
        default=DEFAULT_MAX_CATEGORIES,
        help="text columns with more distinct values are left out (default %(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --output")


def infer_schema_command(args: argparse.Namespace, *, prog: str = "cdk-mlops infer-schema") -> int:
    """Run ``infer-schema``: 0 with the draft written, 1 with a one-line message on stderr."""
    output = Path(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        print(
            f"{prog}: {str(output)!r} exists; pass --force to overwrite it or choose another "
            "--output (a reviewed schema would be lost)",
            file=sys.stderr,
        )
        return 1
    try:
        result = infer_schema(
            args.data,
            target=args.target,
            id_column=args.id_column,
            name=args.name,
            max_categories=args.max_categories,
        )
    except InferError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    if output is None:
        sys.stdout.write(result.to_json())
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(result.to_json(), encoding="utf-8")
    where = str(output) if output else "stdout"
    print(
        f"{prog}: wrote a DRAFT schema to {where}; review it before use ({len(result.notes)} "
        "note(s) below, the format is in docs/schema.md)",
        file=sys.stderr,
    )
    for note in result.notes:
        print(f"  review: {note}", file=sys.stderr)
    return 0
