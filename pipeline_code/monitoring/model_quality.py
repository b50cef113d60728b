"""Model-quality monitor: binary classification metrics on live traffic once labels arrive.

Capture records are joined with ground truth by ``eventMetadata.eventId`` (see
:mod:`pipeline_code.monitoring.ground_truth`); the metrics are
:func:`pipeline_code.evaluation.metrics.binary_classification_metrics`, the ones the evaluation
step puts in the model registry, in Model Monitor's ``binary_classification_metrics`` format.

Mergeable state: per label, a histogram of the scores over :data:`SCORE_BINS` bins of width
1/10,000 (a score ``s`` falls in bin ``floor(s * 10000)``). The metrics are computed on the
scores rounded down to their bin, identically for one shard or many: the confusion counts are
exact whenever the decision threshold is a multiple of 1/10,000 (0.5 is), and the AUC treats
scores within 1/10,000 of each other as ties. Standard deviations come from the same seeded
bootstrap as the evaluation step, up to :data:`MAX_BOOTSTRAP_ROWS` labelled records (beyond,
``"NaN"``: the bootstrap would cost more than the rest of the job).

Constraints (optional) are Model Monitor's model-quality constraints file,
``<baseline>/model_quality_constraints.json``::

    {"version": 0.0, "binary_classification_constraints": {
        "auc": {"threshold": 0.75, "comparison_operator": "LessThanThreshold"}}}

Violations are written in Model Monitor's form (``constraint_check_type`` = the comparison
operator, ``metric_name``, ``description``). :func:`constraints_from_evaluation` writes such a
file from an ``evaluation.json`` with a margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..evaluation.metrics import SCALAR_METRICS, binary_classification_metrics
from . import formats

SCORE_BINS = 10_000
MAX_BOOTSTRAP_ROWS = 100_000
BOOTSTRAP = 20
CONSTRAINTS_FILE = "model_quality_constraints.json"
OPERATORS = ("LessThanThreshold", "GreaterThanThreshold")


def partial(
    scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], *, unlabeled: int
) -> dict[str, Any]:
    """Histogram of labelled scores per class (records without a score are counted apart)."""
    ok = np.isfinite(scores)
    bins = np.clip(np.floor(scores[ok] * SCORE_BINS), 0, SCORE_BINS).astype(np.int64)
    y = labels[ok]
    return {
        "negatives": _sparse(np.bincount(bins[y == 0], minlength=SCORE_BINS + 1)),
        "positives": _sparse(np.bincount(bins[y == 1], minlength=SCORE_BINS + 1)),
        "labelled_without_score": int(np.count_nonzero(~ok)),
        "unlabeled": int(unlabeled),
    }


def _sparse(counts: npt.NDArray[np.int64]) -> dict[str, int]:
    nz = np.flatnonzero(counts)
    return {str(int(i)): int(counts[i]) for i in nz}


def _dense(parts: Sequence[dict[str, int]]) -> npt.NDArray[np.int64]:
    out = np.zeros(SCORE_BINS + 1, dtype=np.int64)
    for p in parts:
        for k, v in p.items():
            out[int(k)] += int(v)
    return out


def finish(
    parts: Sequence[dict[str, Any]],
    *,
    decision_threshold: float,
    constraints: dict[str, Any] | None,
) -> tuple[dict[str, Any], list[dict[str, str]], dict[str, float]]:
    """statistics.json document, violations and metric values from merged partials."""
    neg = _dense([p["negatives"] for p in parts])
    pos = _dense([p["positives"] for p in parts])
    matched = int(neg.sum() + pos.sum())
    unlabeled = sum(int(p["unlabeled"]) for p in parts)
    without_score = sum(int(p["labelled_without_score"]) for p in parts)
    grid = np.arange(SCORE_BINS + 1, dtype=np.float64) / SCORE_BINS
    stats: dict[str, Any] = {
        "version": 0.0,
        "dataset": {"item_count": matched},
        "ground_truth": {
            "matched": matched,
            "unlabeled": unlabeled,
            "labelled_without_score": without_score,
        },
    }
    values: dict[str, float] = {}
    violations: list[dict[str, str]] = []
    if matched == 0:
        stats["binary_classification_metrics"] = {}
        return stats, violations, values
    y = np.concatenate([np.zeros(int(neg.sum()), np.int64), np.ones(int(pos.sum()), np.int64)])
    s = np.concatenate([np.repeat(grid, neg), np.repeat(grid, pos)])
    bootstrap = BOOTSTRAP if matched <= MAX_BOOTSTRAP_ROWS else 0
    metrics = binary_classification_metrics(
        y, s, threshold=decision_threshold, bootstrap=bootstrap, seed=0
    )
    stats["binary_classification_metrics"] = metrics
    for name in SCALAR_METRICS:
        v = metrics.get(name, {}).get("value")
        if isinstance(v, int | float) and math.isfinite(v):
            values[name] = float(v)
    violations = check_constraints(values, constraints)
    return stats, violations, values


def check_constraints(
    values: dict[str, float], constraints: dict[str, Any] | None
) -> list[dict[str, str]]:
    """Model Monitor-style violations of ``binary_classification_constraints``."""
    if not constraints:
        return []
    out: list[dict[str, str]] = []
    for name, rule in (constraints.get("binary_classification_constraints") or {}).items():
        op = rule.get("comparison_operator")
        threshold = float(rule["threshold"])
        v = values.get(name)
        if v is None:
            continue
        if (op == "LessThanThreshold" and v < threshold) or (
            op == "GreaterThanThreshold" and v > threshold
        ):
            out.append(
                {
                    "constraint_check_type": str(op),
                    "metric_name": name,
                    "description": f"Metric {name} with {v:.4g} was {op} {threshold:.4g}",
                }
            )
    return out


def load_constraints(baseline_dir: Path) -> dict[str, Any] | None:
    """``<baseline>/model_quality_constraints.json`` if present, checked."""
    path = Path(baseline_dir) / CONSTRAINTS_FILE
    if not path.exists():
        return None
    doc = formats.read_json(path, "model-quality constraints")
    rules = doc.get("binary_classification_constraints") if isinstance(doc, dict) else None
    if not isinstance(rules, dict):
        raise ValueError(
            f"{path}: expected {{'binary_classification_constraints': {{metric: {{'threshold': x, "
            "'comparison_operator': 'LessThanThreshold'}}}}}}"
        )
    for name, rule in rules.items():
        if name not in SCALAR_METRICS:
            raise ValueError(f"{path}: {name!r} is not a metric; use one of {SCALAR_METRICS}")
        if not isinstance(rule, dict) or rule.get("comparison_operator") not in OPERATORS:
            raise ValueError(
                f"{path}: {name}.comparison_operator must be one of {OPERATORS}, got {rule!r:.80}"
            )
        if not isinstance(rule.get("threshold"), int | float):
            raise ValueError(f"{path}: {name}.threshold must be a number, got {rule!r:.80}")
    return doc


def constraints_from_evaluation(
    evaluation: dict[str, Any], metrics: Sequence[str] = ("auc", "f1"), margin: float = 0.05
) -> dict[str, Any]:
    """Constraints ``metric < evaluated value - margin`` from an evaluation.json document."""
    bcm = evaluation.get("binary_classification_metrics") or {}
    rules: dict[str, Any] = {}
    for name in metrics:
        v = (bcm.get(name) or {}).get("value")
        if isinstance(v, int | float) and math.isfinite(v):
            rules[name] = {
                "threshold": round(float(v) - margin, 6),
                "comparison_operator": "LessThanThreshold",
            }
    return {"version": 0.0, "binary_classification_constraints": rules}
