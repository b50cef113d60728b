"""Binary classification metrics in the SageMaker model-registry format.

The format is the one SageMaker Model Monitor's model-quality job writes and the model
registry displays (``ModelMetrics.ModelQuality.Statistics``)::

    {"binary_classification_metrics": {
        "accuracy": {"value": 0.81, "standard_deviation": 0.012},
        "confusion_matrix": {"0": {"0": 1180, "1": 110}, "1": {"0": 150, "1": 310}},
        "receiver_operating_characteristic_curve": {"false_positive_rates": [...], "true_positive_rates": [...]},
        ...}}

The confusion matrix is keyed actual label, then predicted label, as the encoded labels
``"0"``/``"1"`` (1 = the schema's positive label; these keys are machine fields and stay fixed,
the report and ``evaluation_info.labels`` name the user's own label values). Standard
deviations come from a seeded bootstrap of the test rows; a metric that is undefined (e.g. AUC
with one class) has value and standard deviation ``"NaN"``.

:func:`confidence_bounds` turns the bootstrap standard deviations into one-sided lower
confidence bounds, ``value - z * standard_deviation`` with ``z`` the standard normal quantile of
the confidence level (1.645 at 0.95): a normal approximation, because a percentile bound from
the default 40 replicates would rest on the one or two smallest of them, and because the
standard deviation in ``evaluation.json`` lets the gate compute the same bound at any level.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from .metric_names import SCALAR_METRICS as SCALAR_METRICS

MAX_CURVE_POINTS = 200
DEFAULT_CONFIDENCE_LEVEL = 0.95
CONFIDENCE_METHOD = (
    "one-sided lower bound = value - z * standard_deviation (normal approximation from the "
    "bootstrap standard deviation; z = standard normal quantile of the confidence level)"
)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _counts_metrics(
    tp: np.ndarray, fp: np.ndarray, tn: np.ndarray, fn: np.ndarray
) -> dict[str, np.ndarray]:
    """Every count-based metric, vectorized over bootstrap replicates."""
    precision = _safe_div(tp, tp + fp)
    recall = _safe_div(tp, tp + fn)

    def fbeta(beta: float) -> np.ndarray:
        b2 = beta * beta
        return _safe_div((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)

    return {
        "accuracy": _safe_div(tp + tn, tp + fp + tn + fn),
        "precision": precision,
        "recall": recall,
        "f0_5": fbeta(0.5),
        "f1": fbeta(1.0),
        "f2": fbeta(2.0),
        "true_positive_rate": recall,
        "true_negative_rate": _safe_div(tn, tn + fp),
        "false_positive_rate": _safe_div(fp, fp + tn),
        "false_negative_rate": _safe_div(fn, fn + tp),
    }


def _auc_rank(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum formula with average ranks for ties (NaN with one class)."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(score, kind="mergesort")
    sorted_scores = score[order]
    ranks = np.empty(len(score), dtype=float)
    # Average ranks over runs of equal scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(score)]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _value(x: float) -> float | str:
    return "NaN" if x is None or not math.isfinite(float(x)) else float(x)


def _downsample(*arrays: np.ndarray) -> list[list[float]]:
    n = len(arrays[0])
    if n > MAX_CURVE_POINTS:
        idx = np.unique(np.linspace(0, n - 1, MAX_CURVE_POINTS).round().astype(int))
        arrays = tuple(a[idx] for a in arrays)
    return [[round(float(v), 6) for v in a] for a in arrays]


def binary_classification_metrics(
    y_true: np.ndarray,
    y_score: np.ndarray,
    *,
    threshold: float = 0.5,
    bootstrap: int = 40,
    seed: int = 0,
) -> dict[str, Any]:
    """The ``binary_classification_metrics`` object for labels 0/1 and positive-class scores."""
    y = np.asarray(y_true, dtype=np.int64)
    s = np.asarray(y_score, dtype=float)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(
            f"y_true and y_score must be 1-D and the same length, got {y.shape} and {s.shape}"
        )
    if len(y) == 0:
        raise ValueError("cannot evaluate on zero rows; the test split is empty")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y_true must hold 0/1 labels, found {sorted(set(np.unique(y).tolist()))}")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    pred = (s >= threshold).astype(np.int64)

    def counts(yy: np.ndarray, pp: np.ndarray) -> tuple[np.ndarray, ...]:
        tp = ((yy == 1) & (pp == 1)).sum(axis=-1)
        fp = ((yy == 0) & (pp == 1)).sum(axis=-1)
        tn = ((yy == 0) & (pp == 0)).sum(axis=-1)
        fn = ((yy == 1) & (pp == 0)).sum(axis=-1)
        return tp, fp, tn, fn

    tp, fp, tn, fn = counts(y, pred)
    point = _counts_metrics(*(np.asarray(v, dtype=float) for v in (tp, fp, tn, fn)))
    point_auc = _auc_rank(y, s)

    stds: dict[str, float] = {}
    if bootstrap > 1:
        rng = np.random.default_rng(seed)
        # One replicate at a time keeps memory at O(rows) for large test sets.
        reps = [rng.integers(0, len(y), size=len(y)) for _ in range(bootstrap)]
        boot_counts = np.array([[float(c) for c in counts(y[i], pred[i])] for i in reps])
        boot = _counts_metrics(*boot_counts.T)
        boot["auc"] = np.array([_auc_rank(y[i], s[i]) for i in reps])
        for name, values in boot.items():
            finite = values[np.isfinite(values)]
            stds[name] = float(finite.std(ddof=1)) if len(finite) > 1 else math.nan

    out: dict[str, Any] = {}
    for name in SCALAR_METRICS:
        value = point_auc if name == "auc" else float(point[name])
        out[name] = {"value": _value(value), "standard_deviation": _value(stds.get(name, math.nan))}
    out["confusion_matrix"] = {
        "0": {"0": int(tn), "1": int(fp)},
        "1": {"0": int(fn), "1": int(tp)},
    }
    if 0 < y.sum() < len(y):
        fpr, tpr, _ = roc_curve(y, s)
        precision, recall, _ = precision_recall_curve(y, s)
        fpr_l, tpr_l = _downsample(fpr, tpr)
        prec_l, rec_l = _downsample(precision, recall)
        out["receiver_operating_characteristic_curve"] = {
            "false_positive_rates": fpr_l,
            "true_positive_rates": tpr_l,
        }
        out["precision_recall_curve"] = {"precisions": prec_l, "recalls": rec_l}
    return out


def z_value(confidence_level: float) -> float:
    """The one-sided standard normal quantile for ``confidence_level`` (0.95 -> 1.645)."""
    if (
        isinstance(confidence_level, bool)
        or not isinstance(confidence_level, (int, float))
        or not 0.5 <= confidence_level < 1.0
    ):
        raise ValueError(
            f"confidence level must be a number from 0.5 up to (not including) 1, e.g. 0.95; "
            f"got {confidence_level!r}"
        )
    return NormalDist().inv_cdf(float(confidence_level))


def lower_confidence_bound(value: Any, standard_deviation: Any, confidence_level: float) -> float:
    """``value - z * standard_deviation``; NaN when either is missing or not finite."""
    z = z_value(confidence_level)
    try:
        v, sd = float(value), float(standard_deviation)
    except (TypeError, ValueError):
        return math.nan
    if not (math.isfinite(v) and math.isfinite(sd)):
        return math.nan
    return v - z * sd


def confidence_bounds(
    metrics: dict[str, Any], confidence_level: float = DEFAULT_CONFIDENCE_LEVEL
) -> dict[str, Any]:
    """The ``confidence_bounds`` section: level, method, ``z`` and ``<metric>.lower`` for every
    scalar metric of a ``binary_classification_metrics`` object (``"NaN"`` without bootstrap).

    A pipeline's condition step can compare ``confidence_bounds.auc.lower`` directly.
    """
    z = z_value(confidence_level)
    out: dict[str, Any] = {
        "confidence_level": float(confidence_level),
        "method": CONFIDENCE_METHOD,
        "z": round(z, 6),
    }
    for name in SCALAR_METRICS:
        m = metrics.get(name)
        if isinstance(m, dict):
            bound = lower_confidence_bound(
                m.get("value"), m.get("standard_deviation"), confidence_level
            )
            out[name] = {"lower": _value(bound)}
    return out
