"""Turn raw pandas columns (clean ETL output or parsed capture payloads) into typed arrays.

Whole-column pandas/numpy operations only: the drift benchmark runs these on 1,000,000 rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .stats import FloatArray


@dataclass(frozen=True)
class NumericColumn:
    """A numeric column as float64 (NaN = missing) plus what did not fit the type."""

    values: FloatArray
    num_missing: int
    #: present but not a number (text, booleans) - excluded from ``values``
    num_non_numeric: int
    #: a number, but not a whole one, in an integer column - kept in ``values``
    num_non_integral: int
    examples: tuple[str, ...]

    @property
    def num_type_mismatch(self) -> int:
        return self.num_non_numeric + self.num_non_integral


def coerce_numeric(series: pd.Series, *, integral: bool) -> NumericColumn:
    """Parse a column as numbers without a Python loop over rows in the common cases."""
    examples: list[str] = []
    if pd.api.types.is_bool_dtype(series.dtype):
        n = int(series.notna().sum())
        examples = [str(v) for v in series.dropna().unique()[:3]]
        return NumericColumn(np.full(len(series), np.nan), len(series) - n, n, 0, tuple(examples))
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(values)
        num_non_numeric = 0
    else:
        raw = series.astype(object)
        is_missing = raw.isna().to_numpy()
        text = raw.where(is_missing, raw.astype(str).str.strip())
        is_missing = is_missing | (text == "").to_numpy()
        # booleans are not numbers even though pd.to_numeric would read True as 1
        if pd.api.types.infer_dtype(raw, skipna=True) == "string":
            is_bool = np.zeros(len(raw), dtype=bool)  # all text: skip the per-value type test
        else:
            is_bool = np.fromiter(
                (isinstance(v, bool | np.bool_) for v in raw.to_numpy()), bool, len(raw)
            )
        values = pd.to_numeric(text.mask(is_missing | is_bool), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        bad = np.isnan(values) & ~is_missing
        num_non_numeric = int(bad.sum())
        if num_non_numeric:
            examples = [repr(v) for v in pd.unique(raw[bad])[:3]]
        missing = is_missing
    inf = np.isinf(values)
    if inf.any():
        # inf is "not a finite number": a type problem, not a value for the distribution
        examples += [repr(v) for v in np.unique(values[inf])[:2]]
        num_non_numeric += int(inf.sum())
        values = np.where(inf, np.nan, values)
    num_non_integral = 0
    if integral:
        finite = ~np.isnan(values)
        frac = finite & (values != np.floor(np.where(finite, values, 0.0)))
        num_non_integral = int(frac.sum())
        if num_non_integral:
            examples += [repr(float(v)) for v in np.unique(values[frac])[:3]]
    return NumericColumn(
        values, int(missing.sum()), num_non_numeric, num_non_integral, tuple(examples)
    )


def normalize_strings(series: pd.Series, *, boolean: bool) -> pd.Series:
    """Categorical values as stripped strings; booleans as "true"/"false"; missing as None."""
    raw = series.astype(object)
    if boolean:
        # JSON true/false, numpy bools and any capitalisation of the words map to the ETL form
        mapped = raw.map({True: "true", False: "false"}, na_action="ignore")
        raw = mapped.where(mapped.notna(), raw)
        text = raw.where(raw.isna(), raw.astype(str).str.strip().str.lower())
    else:
        text = raw.where(raw.isna(), raw.astype(str).str.strip())
    return text.mask(text == "")
