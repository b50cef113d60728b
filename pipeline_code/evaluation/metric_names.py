"""The gate-able metric names of ``evaluation.json``, importable without numpy (for ``--help``)."""

from __future__ import annotations

SCALAR_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "f0_5",
    "f1",
    "f2",
    "auc",
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
)

#: Sections of ``evaluation.json`` a dotted metric path may start with.
METRIC_SECTIONS: tuple[str, ...] = (
    "binary_classification_metrics",
    "confidence_bounds",
    "bias_metrics",
)


def metric_problem(metric: str) -> str | None:
    """Why ``metric`` cannot be gated on (``None`` when it can), checked before any work runs."""
    if metric in SCALAR_METRICS:
        return None
    if "." in metric and metric.split(".", 1)[0] in METRIC_SECTIONS:
        return None
    return (
        f"--metric {metric!r} is not a metric of evaluation.json: use one of "
        f"{', '.join(SCALAR_METRICS)}, or a path starting with "
        f"{' / '.join(s + '.' for s in METRIC_SECTIONS)} "
        "(e.g. confidence_bounds.auc.lower)"
    )
