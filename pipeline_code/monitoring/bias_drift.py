"""Bias-drift monitor: the evaluation step's bias metrics, on live traffic with ground truth.

For each sensitive attribute of the schema the records with a label are grouped (the attribute's
value, or its schema ``bins``; missing values form ``(missing)``) and
:func:`pipeline_code.evaluation.bias.bias_metrics` computes the demographic parity difference,
equal opportunity difference and disparate impact, exactly as at evaluation time.

Where the attribute values come from: the capture when the attribute is a model input, otherwise
the ground-truth line's ``sensitiveAttributes`` (see :mod:`.ground_truth`).

Mergeable state: per attribute and group, the four confusion counts (tn, fp, fn, tp). The merge
rebuilds label/prediction arrays with those counts, so the metrics are the evaluation code's own.

Violations (``constraint_check_type`` ``bias_drift_check``, with ``facet`` and ``metric_name``,
as Clarify writes them): disparate impact below ``min_disparate_impact`` (default 0.8, the
four-fifths rule), or a parity / opportunity difference above ``max_difference`` (default 0.1).
When the baseline folder holds the model version's ``evaluation.json`` (:data:`EVALUATION_FILE`,
the evaluation step's output with its ``bias_metrics``), the drift itself is checked too: a
disparate impact that fell, or a difference that grew, by more than ``max_difference`` since
evaluation is a violation, and the evaluation-time values are written next to the live ones.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..evaluation.bias import MISSING_GROUP, _groups, bias_metrics
from ..schema import Schema
from . import formats
from .metric_lines import BIAS_METRICS

DEFAULT_MIN_DISPARATE_IMPACT = 0.8
DEFAULT_MAX_DIFFERENCE = 0.1
DEFAULT_MIN_GROUP_SIZE = 10
CHECK_TYPE = "bias_drift_check"
EVALUATION_FILE = "evaluation.json"
#: metric key -> +1 when larger is worse, -1 when smaller is worse
_WORSE = {
    "demographic_parity_difference": 1,
    "equal_opportunity_difference": 1,
    "disparate_impact": -1,
}
_SHORT = {v: k.removeprefix("bias_metric_") for k, v in BIAS_METRICS.items()}


def load_evaluation_bias(baseline_dir: Path) -> dict[str, Any] | None:
    """The ``bias_metrics`` of ``<baseline>/evaluation.json``, when the baseline has one."""
    path = Path(baseline_dir) / EVALUATION_FILE
    if not path.exists():
        return None
    doc = formats.read_json(path, "evaluation")
    bias = doc.get("bias_metrics") if isinstance(doc, dict) else None
    if bias is not None and not isinstance(bias, dict):
        raise ValueError(
            f"{path}: 'bias_metrics' must be an object per sensitive attribute, got {bias!r:.80}; "
            "use the evaluation step's evaluation.json"
        )
    return bias


def partial(
    attributes: dict[str, pd.Series],
    labels: npt.NDArray[np.int64],
    predicted: npt.NDArray[np.int64],
    schema: Schema,
) -> dict[str, Any]:
    """Per attribute and group: [tn, fp, fn, tp] over labelled records with a prediction."""
    out: dict[str, Any] = {}
    for attr in schema.sensitive_attributes:
        series = attributes.get(attr.name)
        if series is None:
            continue
        groups = _groups(series.reset_index(drop=True), attr)
        cells = labels * 2 + predicted  # 0 tn, 1 fp, 2 fn, 3 tp
        per: dict[str, list[int]] = {}
        for g in pd.unique(groups):
            mask = groups == g
            per[str(g)] = np.bincount(cells[mask], minlength=4).astype(int).tolist()
        out[attr.name] = per
    return out


def merge(parts: Sequence[dict[str, Any]]) -> dict[str, dict[str, list[int]]]:
    out: dict[str, dict[str, list[int]]] = {}
    for p in parts:
        for attr, groups in p.items():
            dest = out.setdefault(attr, {})
            for g, counts in groups.items():
                old = dest.get(g, [0, 0, 0, 0])
                dest[g] = [a + b for a, b in zip(old, counts, strict=True)]
    return out


def finish(
    merged: dict[str, dict[str, list[int]]],
    schema: Schema,
    *,
    min_disparate_impact: float = DEFAULT_MIN_DISPARATE_IMPACT,
    max_difference: float = DEFAULT_MAX_DIFFERENCE,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    baseline: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], list[dict[str, str]], dict[str, dict[str, float]]]:
    """statistics document, violations and ``{attribute: {metric name: value}}``."""
    attrs = [a for a in schema.sensitive_attributes if a.name in merged]
    # groups are already formed: bias_metrics must not bin them again
    flat = dataclasses.replace(
        schema, sensitive_attributes=tuple(dataclasses.replace(a, bins=()) for a in attrs)
    )
    report: dict[str, Any] = {}
    n = 0
    for attr in attrs:
        groups = merged[attr.name]
        names: list[Any] = []
        y_parts: list[npt.NDArray[np.int64]] = []
        p_parts: list[npt.NDArray[np.int64]] = []
        for g, (tn, fp, fn, tp) in groups.items():
            size = tn + fp + fn + tp
            names += [None if g == MISSING_GROUP else g] * size
            y_parts.append(np.repeat(np.array([0, 0, 1, 1]), [tn, fp, fn, tp]))
            p_parts.append(np.repeat(np.array([0, 1, 0, 1]), [tn, fp, fn, tp]))
        y = np.concatenate(y_parts) if y_parts else np.empty(0, np.int64)
        p = np.concatenate(p_parts) if p_parts else np.empty(0, np.int64)
        n = max(n, y.size)
        one = dataclasses.replace(flat, sensitive_attributes=(flat.column(attr.name),))
        frame = pd.DataFrame({attr.name: pd.Series(names, dtype=object)})
        report.update(bias_metrics(frame, y, p, one, min_group_size=min_group_size))
    violations: list[dict[str, str]] = []
    values: dict[str, dict[str, float]] = {}
    facets: dict[str, Any] = {}
    for attr_name, r in report.items():
        vals = {
            metric: float(r[key]) for metric, key in BIAS_METRICS.items() if r.get(key) is not None
        }
        values[attr_name] = vals
        facets[attr_name] = [
            {
                "value_or_threshold": "(all groups)",
                "metrics": [
                    {
                        "name": m.removeprefix("bias_metric_"),
                        "description": BIAS_METRICS[m],
                        "value": v,
                    }
                    for m, v in vals.items()
                ],
            }
        ]
        di = r.get("disparate_impact")
        if di is not None and di < min_disparate_impact:
            violations.append(
                _violation(
                    attr_name,
                    "DI",
                    f"disparate impact {di:.3f} is below {min_disparate_impact:g} (selection "
                    f"rates across groups of {attr_name})",
                )
            )
        for short, key in (
            ("DPPL", "demographic_parity_difference"),
            ("RD", "equal_opportunity_difference"),
        ):
            v = r.get(key)
            if v is not None and v > max_difference:
                violations.append(
                    _violation(attr_name, short, f"{key} {v:.3f} exceeds {max_difference:g}")
                )
    if baseline:
        for attr_name, r in report.items():
            base = baseline.get(attr_name) or {}
            for key, sign in _WORSE.items():
                live, then = r.get(key), base.get(key)
                if not isinstance(live, int | float) or not isinstance(then, int | float):
                    continue
                r.setdefault("evaluation", {})[key] = then
                change = (live - then) * sign
                if change > max_difference:
                    violations.append(
                        _violation(
                            attr_name,
                            _SHORT[key],
                            f"{key} moved from {then:.3f} at evaluation to {live:.3f} on live "
                            f"traffic (worse by {change:.3f}, more than {max_difference:g})",
                        )
                    )
    stats = {
        "version": 0.0,
        "dataset": {"item_count": n},
        "post_training_bias_metrics": {"label": schema.target.name, "facets": facets},
        "bias_metrics": report,
    }
    return stats, violations, values


def _violation(facet: str, metric: str, description: str) -> dict[str, str]:
    return {
        "facet": facet,
        "metric_name": metric,
        "constraint_check_type": CHECK_TYPE,
        "description": description,
    }
