"""Group fairness metrics over the schema's sensitive attributes.

For each sensitive attribute, per group: row count, actual positive rate, predicted positive
rate (selection rate), true positive rate and accuracy. Across groups (only groups with at
least ``min_group_size`` rows, since tiny groups make the differences noise):

- ``demographic_parity_difference``: max - min selection rate (0 = parity);
- ``equal_opportunity_difference``: max - min true positive rate (0 = equal opportunity);
- ``disparate_impact``: min / max selection rate (1 = parity; the four-fifths rule flags < 0.8).

A numeric sensitive attribute is grouped by its schema ``bins`` (edges such as
``[18, 30, 45, 65]`` give the groups ``< 18``, ``[18, 30)``, ..., ``>= 65``, listed in that
order). Missing values form the group ``(missing)``. Undefined values (no eligible groups, no
positives) are ``null``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnSpec, Schema

MISSING_GROUP = "(missing)"


def _rate(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def _group_stats(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    positives = int(y.sum())
    tp = int(((y == 1) & (pred == 1)).sum())
    return {
        "count": len(y),
        "positives": positives,
        "base_rate": _rate(positives, len(y)),
        "selection_rate": _rate(float(pred.sum()), len(y)),
        "true_positive_rate": _rate(tp, positives),
        "accuracy": _rate(float((y == pred).sum()), len(y)),
    }


def _groups(values: pd.Series, attr: ColumnSpec) -> np.ndarray:
    """The group name of each row: the value itself, or its bin for a binned numeric attribute."""
    if not attr.bins:
        return values.astype(object).where(values.notna(), MISSING_GROUP).astype(str).to_numpy()
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    labels = np.asarray(attr.bin_labels, dtype=object)
    out = labels[np.searchsorted(np.asarray(attr.bins), numbers, side="right")]
    out[np.isnan(numbers)] = MISSING_GROUP
    return out


def _spread(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(max(finite) - min(finite)) if len(finite) >= 2 else None


def bias_metrics(
    df: pd.DataFrame,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    schema: Schema,
    *,
    min_group_size: int = 10,
) -> dict[str, Any]:
    """Bias metrics for every sensitive attribute of ``schema`` (an empty dict if it has none)."""
    y = np.asarray(y_true, dtype=np.int64)
    pred = np.asarray(y_pred, dtype=np.int64)
    if len(df) != len(y) or len(y) != len(pred):
        raise ValueError(
            f"rows, labels and predictions differ in length: {len(df)}, {len(y)}, {len(pred)}"
        )
    out: dict[str, Any] = {}
    for attr in schema.sensitive_attributes:
        if attr.name not in df.columns:
            raise ValueError(
                f"sensitive attribute {attr.name!r} is not in the evaluation data (columns: {list(df.columns)}); "
                "evaluate on data with schema.all_columns"
            )
        groups = _groups(df[attr.name], attr)
        order = (
            [g for g in (*attr.bin_labels, MISSING_GROUP) if g in set(groups.tolist())]
            if attr.bins
            else sorted(set(groups.tolist()))
        )
        per_group: dict[str, Any] = {}
        for group in order:
            mask = groups == group
            per_group[group] = _group_stats(y[mask], pred[mask])
        eligible = {g: v for g, v in per_group.items() if v["count"] >= min_group_size}
        selection = [v["selection_rate"] for v in eligible.values()]
        finite_sel = [v for v in selection if v is not None]
        disparate: float | None = None
        if len(finite_sel) >= 2 and max(finite_sel) > 0:
            disparate = float(min(finite_sel) / max(finite_sel))
        out[attr.name] = {
            "groups": per_group,
            "excluded_groups": sorted(set(per_group) - set(eligible)),
            "min_group_size": min_group_size,
            "reference_group": max(per_group, key=lambda g: per_group[g]["count"])
            if per_group
            else None,
            "demographic_parity_difference": _spread(selection),
            "equal_opportunity_difference": _spread(
                [v["true_positive_rate"] for v in eligible.values()]
            ),
            "disparate_impact": disparate,
        }
    return out
