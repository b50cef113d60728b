"""Validation of parsed rows against the model's schema, vectorized over whole columns.

The rows are aligned with ``schema.feature_names`` (by CSV header, JSON keys or position), then
each column is checked at once with numpy/pandas (numbers, ranges, whole numbers, categories,
missing values); only a failing column takes the slow path that names the rows, the value and
the fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..schema import Schema, parse_number
from .errors import (
    ENV_MAX_ROWS,
    BadRequestError,
    PayloadTooLargeError,
    ServingLimits,
)
from .model import (
    LoadedModel,
    _CategoricalCheck,
    _model_frame,
    _NumericCheck,
)
from .parsing import CSV_CONTENT_TYPE, ParsedInput

_MAX_ROWS_IN_MESSAGE = 3


@dataclass(frozen=True)
class _Where:
    """Names rows in messages: CSV line numbers (1-based, header counted) or JSON indexes."""

    csv: bool
    offset: int = 0

    def rows(self, idx: npt.NDArray[np.intp] | Sequence[int]) -> str:
        idx = [int(i) for i in idx]
        shown = idx[:_MAX_ROWS_IN_MESSAGE]
        names = (
            [f"line {i + self.offset + 1}" for i in shown]
            if self.csv
            else [f"instances[{i}]" for i in shown]
        )
        more = f" (and {len(idx) - len(shown)} more)" if len(idx) > len(shown) else ""
        return ", ".join(names) + more


def _short(v: Any) -> str:
    if isinstance(v, np.generic):
        v = v.item()  # 500.0, not np.float64(500.0)
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _align(parsed: ParsedInput, schema: Schema) -> tuple[list[Sequence[Any]], _Where]:
    """Align the parsed rows with ``schema.feature_names``: one sequence per feature."""
    if parsed.records:
        return _columns_from_records(parsed.rows, schema), _Where(csv=False)
    if parsed.frame is not None:
        return _columns_from_csv_frame(parsed.frame, schema)
    names = schema.feature_names
    k = len(names)
    rows = parsed.rows
    is_csv = parsed.content_type == CSV_CONTENT_TYPE
    where = _Where(csv=is_csv)
    order: list[int] | None = None
    if is_csv:
        first = [str(v).strip() for v in rows[0]]
        if set(first) & set(names):
            if sorted(first) != sorted(names):
                missing = [n for n in names if n not in first]
                unknown = [c for c in first if c not in names]
                raise BadRequestError(
                    f"the CSV header does not match the features: missing {missing}, unknown {unknown}; "
                    f"the header must name exactly {names}"
                )
            rows = rows[1:]
            where = _Where(csv=True, offset=1)
            if not rows:
                raise BadRequestError("the CSV body has a header line but no rows")
            if first != names:
                order = [first.index(n) for n in names]
    widths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
    wrong = np.flatnonzero(widths != k)
    if wrong.size:
        raise BadRequestError(
            f"{where.rows(wrong)}: expected {k} values ({', '.join(names)}), got {int(widths[wrong[0]])}"
        )
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    if order is not None:
        columns = [columns[i] for i in order]
    return columns, where


def _frame_column(col: pd.Series) -> Any:
    """A parsed CSV column as a numpy array: numbers and booleans as they are, text as objects."""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy()
    return col.to_numpy(dtype=object, na_value=None)


def _columns_from_csv_frame(
    frame: pd.DataFrame, schema: Schema
) -> tuple[list[Sequence[Any]], _Where]:
    names = schema.feature_names
    k = len(names)
    width = frame.shape[1]
    where = _Where(csv=True)
    order: list[int] | None = None
    drop_header = False
    if any(not pd.api.types.is_numeric_dtype(dt) for dt in frame.dtypes):
        # a header line makes every column text; only then can the first row be one
        first = [str(v).strip() for v in frame.iloc[0].tolist()]
        if set(first) & set(names):
            if sorted(first) != sorted(names):
                missing = [n for n in names if n not in first]
                unknown = [c for c in first if c not in names]
                raise BadRequestError(
                    f"the CSV header does not match the features: missing {missing}, unknown {unknown}; "
                    f"the header must name exactly {names}"
                )
            if len(frame) == 1:
                raise BadRequestError("the CSV body has a header line but no rows")
            drop_header = True
            where = _Where(csv=True, offset=1)
            if first != names:
                order = [first.index(n) for n in names]
    if width != k:
        lines = range(len(frame) - (1 if drop_header else 0))
        raise BadRequestError(
            f"{where.rows(lines)}: expected {k} values ({', '.join(names)}), got {width}"
        )
    columns: list[Sequence[Any]] = []
    by_position = [col for _, col in frame.items()]
    for j in order if order is not None else range(k):
        col = by_position[j]
        # after a header the data columns are text: the validation converts them
        columns.append(
            col.to_numpy(dtype=object, na_value=None)[1:] if drop_header else _frame_column(col)
        )
    return columns, where


def _columns_from_records(rows: list[dict[str, Any]], schema: Schema) -> list[Sequence[Any]]:
    names = schema.feature_names
    name_set = set(names)
    optional = {c.name for c in schema.features if c.nullable}
    mismatched = [i for i, r in enumerate(rows) if r.keys() != name_set]
    if not mismatched:
        if len(names) == 1:
            return [[r[names[0]] for r in rows]]
        return list(zip(*map(itemgetter(*names), rows), strict=True))
    for i in mismatched:
        keys = set(rows[i])
        unknown = sorted(keys - name_set)
        missing = [n for n in names if n not in keys and n not in optional]
        if unknown or missing:
            problems = ([f"unknown features {unknown}"] if unknown else []) + (
                [f"missing features {missing}"] if missing else []
            )
            raise BadRequestError(
                f"instances[{i}]: {'; '.join(problems)}; send exactly the features {names}"
            )
    # only optional (nullable) features are absent: they count as missing values
    return [[r.get(n) for r in rows] for n in names]


def _to_float(v: Any) -> Any:
    """One value as a float, or _INVALID; the slow path that explains a failed batch conversion."""
    if v is None:
        return math.nan
    if isinstance(v, bool):
        return _INVALID
    if isinstance(v, int | float):
        try:
            return float(v)
        except OverflowError:
            return math.inf  # a huge integer: reported as out of range
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return math.nan
        try:
            return float(s)
        except ValueError:
            return _INVALID
    return _INVALID


def _numeric_column(
    values: Sequence[Any], check: _NumericCheck, where: _Where, text: bool
) -> npt.NDArray[np.float64]:
    arr: npt.NDArray[np.float64] | None
    if isinstance(values, np.ndarray) and values.dtype == np.bool_:
        raise BadRequestError(
            f"{where.rows(range(len(values)))}: {check.name}={_short(bool(values[0]))} is not a number; "
            f"send {check.describe()}"
        )
    # JSON true/false would silently become 1.0/0.0 in the fast conversion
    if not text and any(type(v) is bool for v in values):
        arr = None
    elif isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        arr = values.astype(np.float64, copy=False)  # already parsed by the CSV reader
    else:
        try:
            arr = np.array(values, dtype=np.float64)
        except (ValueError, TypeError, OverflowError):
            arr = None
            if text and check.nullable:
                # empty CSV fields are the usual reason here: read them as NaN and try again
                try:
                    arr = np.array([v if v.strip() else "nan" for v in values], dtype=np.float64)
                except (ValueError, TypeError, OverflowError):
                    arr = None
        if arr is not None and arr.ndim != 1:
            arr = None
    if arr is None:
        converted = [_to_float(v) for v in values]
        bad = [i for i, f in enumerate(converted) if f is _INVALID]
        if bad:
            raise BadRequestError(
                f"{where.rows(bad)}: {check.name}={_short(values[bad[0]])} is not a number; send {check.describe()}"
            )
        arr = np.array(converted, dtype=np.float64)
    nan = np.isnan(arr)
    if not check.nullable and nan.any():
        raise BadRequestError(
            f"{where.rows(np.flatnonzero(nan))}: {check.name} is missing (empty, null or NaN) but is not "
            f"nullable; send {check.describe()}"
        )
    out = (arr < check.lo) | (arr > check.hi) | np.isinf(arr)
    if out.any():
        bad_idx = np.flatnonzero(out)
        raise BadRequestError(
            f"{where.rows(bad_idx)}: {check.name}={_short(values[bad_idx[0]])} is out of range; send {check.describe()}"
        )
    if check.integer:
        whole = np.where(nan, 0.0, arr)
        frac = whole != np.floor(whole)
        if frac.any():
            bad_idx = np.flatnonzero(frac)
            raise BadRequestError(
                f"{where.rows(bad_idx)}: {check.name}={_short(values[bad_idx[0]])} is not a whole number; "
                f"send {check.describe()}"
            )
    return arr


def _categorical_column(
    values: Sequence[Any], check: _CategoricalCheck, where: _Where
) -> npt.NDArray[np.object_]:
    if isinstance(values, np.ndarray) and values.dtype != object:
        if values.dtype == np.bool_ and check.boolean:
            # the CSV reader turns true/false into booleans: back to the ETL's strings
            return np.where(values, "true", "false").astype(object)
        values = values.tolist()  # numbers: the per-value rules below decide
    arr = np.fromiter(values, dtype=object, count=len(values))
    try:
        if check.category_set.issuperset(values):
            return arr  # every value is exactly a category string: the common case, one set pass
        codes = check.index.get_indexer(arr)
    except TypeError:  # unhashable values (lists, dicts)
        codes = np.full(len(arr), -1, dtype=np.intp)
    # slow path over the values that failed the exact match: normalise, then explain
    idx = np.flatnonzero(codes < 0)
    fixed = [_normalise_category(arr[i], check) for i in idx]
    invalid = [int(idx[j]) for j, v in enumerate(fixed) if v is _INVALID]
    if invalid:
        raise BadRequestError(
            f"{where.rows(invalid)}: {check.name} must be one of {list(check.categories)}, got "
            f"{_short(arr[invalid[0]])}"
        )
    missing = [int(idx[j]) for j, v in enumerate(fixed) if v is None]
    if missing and not check.nullable:
        raise BadRequestError(
            f"{where.rows(missing)}: {check.name} is missing but is not nullable; send one of "
            f"{list(check.categories)}"
        )
    unknown = [
        int(idx[j]) for j, v in enumerate(fixed) if v is not None and v not in check.categories
    ]
    if unknown:
        raise BadRequestError(
            f"{where.rows(unknown)}: {check.name}={_short(arr[unknown[0]])} is not a known category; send one "
            f"of {list(check.categories)}"
        )
    for j, i in enumerate(idx):
        arr[i] = fixed[j]
    return arr


_INVALID: Any = object()


def _normalise_category(v: Any, check: _CategoricalCheck) -> Any:
    """Lenient forms of a category: surrounding spaces, any case of true/false, and numeric
    codes matched by value (2, 2.0 and "2.0" all match the category "2", as in the ETL)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool | np.bool_):
        return ("true" if v else "false") if check.boolean else _INVALID
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        if check.boolean:
            return s.lower()
        if s not in check.category_set and check.codes and (value := parse_number(s)) is not None:
            # a numeric code written differently ("2.0", "+2", "2e0"): matched by value
            return check.codes.get(value, s)
        return s
    if isinstance(v, int | float | np.integer | np.floating) and not check.boolean:
        if isinstance(v, float | np.floating) and not math.isfinite(v):
            return _INVALID
        if check.codes:
            try:
                coded = check.codes.get(float(v))
            except OverflowError:
                coded = None
            if coded is not None:
                return coded
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return _INVALID


def _columns_from_frame(df: pd.DataFrame, schema: Schema) -> list[Sequence[Any]]:
    names = schema.feature_names
    missing = [n for n in names if n not in df.columns]
    unknown = [str(c) for c in df.columns if c not in names]
    if missing or unknown:
        raise BadRequestError(
            f"the frame has missing features {missing} and unknown columns {unknown}; send {names}"
        )
    out: list[Sequence[Any]] = []
    for n in names:
        col = df[n]
        if pd.api.types.is_float_dtype(col.dtype) or pd.api.types.is_integer_dtype(col.dtype):
            out.append(col.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            out.append(col.to_numpy(dtype=object, na_value=None))
    return out


def frame_from_input(data: ParsedInput | pd.DataFrame, model: LoadedModel) -> pd.DataFrame:
    """Check rows against the model's schema and build the model's input frame (vectorized)."""
    if isinstance(data, pd.DataFrame):
        columns, where, text = _columns_from_frame(data, model.schema), _Where(csv=False), False
    else:
        columns, where = _align(data, model.schema)
        text = data.content_type == CSV_CONTENT_TYPE
    n = len(columns[0]) if columns else 0
    limits = ServingLimits.from_env()
    if n > limits.max_rows:
        raise PayloadTooLargeError(
            f"the request has {n} rows, more than the limit of {limits.max_rows}; split it into smaller "
            f"requests (or raise {ENV_MAX_ROWS})"
        )
    numbers: list[npt.NDArray[np.float64]] = []
    texts: list[npt.NDArray[np.object_]] = []
    for values, check in zip(columns, model.checks, strict=True):
        if isinstance(check, _NumericCheck):
            numbers.append(_numeric_column(values, check, where, text))
        else:
            texts.append(_categorical_column(values, check, where))
    return _model_frame(model, numbers, texts, n)
