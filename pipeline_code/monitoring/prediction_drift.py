"""Prediction-drift monitor: the distribution of the model's scores against a baseline of scores.

Decision: the reference is the model's own scores on the held-out data it was evaluated on
(``<baseline>/prediction_statistics.json`` and ``prediction_constraints.json``, Model Monitor's
statistics/constraints formats with one Fractional column, :data:`SCORE_COLUMN`, written by
:func:`write_prediction_baseline` from the evaluation's predictions). Scores, not the label
distribution: the label base rate moves only when the world moves, the scores move as soon as
the inputs do, and a score distribution catches a shift that leaves the positive rate unchanged.
The predicted positive rate (score >= decision threshold) is reported next to it, and compared
with the baseline's (``dataset.predicted_positive_rate``) in the violation text.

The comparison is the data-quality drift test (L-infinity distance with the ``Robust`` KS bound,
PSI reported) applied to that one column, through the same mergeable state as the data-quality
monitor. Without a prediction baseline the monitor still writes the window's score statistics
and the positive rate, and says in ``statistics.json`` that nothing was compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..schema import Schema
from . import formats
from .baseline import build_baseline

SCORE_COLUMN = "prediction_score"
STATISTICS_FILE = "prediction_statistics.json"
CONSTRAINTS_FILE = "prediction_constraints.json"


def score_schema() -> Schema:
    """A one-column schema for the scores (for the baseline builder)."""
    return Schema.from_dict(
        {
            "name": "predictions",
            "id_column": "id",
            "target": {"name": "label", "positive": 1, "negative": 0},
            "features": [{"name": SCORE_COLUMN, "type": "float", "min": 0, "max": 1}],
        },
        source="prediction baseline schema",
    )


def write_prediction_baseline(
    scores: npt.ArrayLike,
    output_dir: Path,
    *,
    decision_threshold: float = 0.5,
    threshold: float = formats.DEFAULT_THRESHOLD,
) -> tuple[Path, Path]:
    """Write prediction_statistics.json / prediction_constraints.json from reference scores."""
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.size == 0 or not np.isfinite(s).all():
        raise ValueError(
            "reference scores must be a non-empty list of finite positive-class probabilities"
        )
    stats, cons = build_baseline(
        pd.DataFrame({SCORE_COLUMN: s}), score_schema(), threshold=threshold
    )
    stats["dataset"]["predicted_positive_rate"] = float(np.mean(s >= decision_threshold))
    out = Path(output_dir)
    return (
        formats.write_json(out / STATISTICS_FILE, stats),
        formats.write_json(out / CONSTRAINTS_FILE, cons),
    )


def load_prediction_baseline(
    baseline_dir: Path,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The prediction baseline documents, or None when the baseline has none."""
    base = Path(baseline_dir)
    s_path, c_path = base / STATISTICS_FILE, base / CONSTRAINTS_FILE
    if not s_path.exists() and not c_path.exists():
        return None
    stats = formats.check_statistics(
        formats.read_json(s_path, "prediction statistics"), str(s_path)
    )
    cons = formats.check_constraints(
        formats.read_json(c_path, "prediction constraints"), str(c_path)
    )
    names = [f.get("name") for f in cons["features"]]
    if names != [SCORE_COLUMN]:
        raise ValueError(
            f"{c_path}: expected one feature {SCORE_COLUMN!r}, got {names}; regenerate it with "
            "pipeline_code.monitoring.prediction_drift.write_prediction_baseline"
        )
    return stats, cons
