"""Quality gate: decide from ``evaluation.json`` whether a model may be registered.

``auc``, ``f1``, ... are read from ``binary_classification_metrics.<name>.value`` and must be
at least the threshold. A dotted path such as
``bias_metrics.gender.demographic_parity_difference`` reads any number in the file; names
ending in ``_difference`` must be at most the threshold (lower is fairer).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_code.evaluation.metrics import SCALAR_METRICS


@dataclass(frozen=True)
class GateResult:
    """The decision, the metric's value and a message that says why."""

    passed: bool
    metric: str
    value: float | None
    threshold: float
    message: str


def _load(evaluation: dict[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(evaluation, dict):
        return evaluation
    path = Path(evaluation)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(
            f"evaluation file {str(path)!r} does not exist; run the evaluation step first"
        ) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"evaluation file {str(path)!r} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"evaluation file {str(path)!r} must hold a JSON object")
    return data


def _lookup(data: dict[str, Any], metric: str) -> Any:
    if "." not in metric:
        section = data.get("binary_classification_metrics")
        if not isinstance(section, dict):
            raise ValueError(
                "evaluation has no 'binary_classification_metrics' section; is it an evaluation.json?"
            )
        if metric not in section or not isinstance(section[metric], dict):
            available = [
                k for k in section if isinstance(section[k], dict) and "value" in section[k]
            ]
            raise ValueError(f"metric {metric!r} is not in the evaluation; available: {available}")
        return section[metric].get("value")
    node: Any = data
    for part in metric.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValueError(
                f"metric path {metric!r} does not exist in the evaluation (stopped at {part!r}); "
                f"use a metric name such as {list(SCALAR_METRICS[:5])} or a path like "
                "'bias_metrics.<attribute>.demographic_parity_difference'"
            )
        node = node[part]
    if isinstance(node, dict) and "value" in node:
        node = node["value"]
    return node


def check_quality_gate(
    evaluation: dict[str, Any] | str | Path,
    metric: str,
    threshold: float,
    *,
    higher_is_better: bool | None = None,
) -> GateResult:
    """Compare ``metric`` against ``threshold``; see the module docstring for the direction."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
    ):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    data = _load(evaluation)
    raw = _lookup(data, metric)
    if higher_is_better is None:
        higher_is_better = not metric.endswith("_difference")
    op = ">=" if higher_is_better else "<="
    value: float | None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not math.isfinite(value):
        return GateResult(
            False,
            metric,
            None,
            float(threshold),
            f"quality gate FAILED: {metric} is undefined ({raw!r}) so it cannot be {op} {threshold}",
        )
    passed = value >= threshold if higher_is_better else value <= threshold
    verdict = "passed" if passed else "FAILED"
    hint = (
        "" if passed else "; improve the model or data, or change --metric/--threshold deliberately"
    )
    return GateResult(
        passed,
        metric,
        value,
        float(threshold),
        f"quality gate {verdict}: {metric} = {value:.4f}, required {op} {threshold}{hint}",
    )
