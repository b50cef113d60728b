"""Quality gate: decide from ``evaluation.json`` whether a model may be registered.

``auc``, ``f1``, ... are read from ``binary_classification_metrics.<name>.value`` and must be
at least the threshold. A dotted path such as
``bias_metrics.gender.demographic_parity_difference`` reads any number in the file; names
ending in ``_difference`` must be at most the threshold (lower is fairer).

``bound`` chooses the value compared: ``"point"`` (the default, as before) compares the metric's
value; ``"lower"`` compares its one-sided lower confidence bound at ``confidence_level``,
``value - z * standard_deviation`` from the bootstrap standard deviation in the file (see
:mod:`pipeline_code.evaluation.metrics`). A lower-bound gate passes only when the metric is
above the threshold with that confidence, so choose its threshold as the least acceptable
value (e.g. AUC 0.65), not as a typical one. :func:`record_quality_gate` writes the decision
(which value and bound were compared) into ``evaluation.json`` and the HTML report.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .metrics import (
    DEFAULT_CONFIDENCE_LEVEL,
    SCALAR_METRICS,
    lower_confidence_bound,
    z_value,
)

GATE_BOUNDS: tuple[str, ...] = ("point", "lower")


@dataclass(frozen=True)
class GateResult:
    """The decision, the value compared with the threshold and a message that says why.

    ``value`` is the compared value: the metric's value for ``bound="point"``, its lower
    confidence bound for ``bound="lower"`` (``point_value`` is always the metric's value).
    """

    passed: bool
    metric: str
    value: float | None
    threshold: float
    message: str
    bound: str = "point"
    confidence_level: float | None = None
    point_value: float | None = None
    standard_deviation: float | None = None
    operator: str = ">="

    def to_record(self) -> dict[str, Any]:
        """The ``quality_gate`` section of ``evaluation.json`` (strict JSON: no NaN)."""
        return {
            "metric": self.metric,
            "bound": self.bound,
            "confidence_level": self.confidence_level,
            "compared_value": self.value,
            "point_value": self.point_value,
            "standard_deviation": self.standard_deviation,
            "operator": self.operator,
            "threshold": self.threshold,
            "passed": self.passed,
            "message": self.message,
        }


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
    node = _lookup_node(data, metric)
    if isinstance(node, dict) and "value" in node:
        node = node["value"]
    return node


def _standard_deviation(data: dict[str, Any], metric: str) -> Any:
    """The bootstrap standard deviation stored beside ``metric``'s value (error if none)."""
    node = _lookup_node(data, metric)
    if not isinstance(node, dict) and metric.endswith(".value"):
        node = _lookup_node(data, metric[: -len(".value")])
    if isinstance(node, dict) and "standard_deviation" in node:
        return node["standard_deviation"]
    raise ValueError(
        f"bound 'lower' needs a metric with a bootstrap standard deviation (such as "
        f"{list(SCALAR_METRICS[:5])}); {metric!r} has none: use bound 'point' for it"
    )


def _to_float(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _lookup_node(data: dict[str, Any], metric: str) -> Any:
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
        return section[metric]
    node: Any = data
    for part in metric.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValueError(
                f"metric path {metric!r} does not exist in the evaluation (stopped at {part!r}); "
                f"use a metric name such as {list(SCALAR_METRICS[:5])} or a path like "
                "'bias_metrics.<attribute>.demographic_parity_difference'"
            )
        node = node[part]
    return node


def check_quality_gate(
    evaluation: dict[str, Any] | str | Path,
    metric: str,
    threshold: float,
    *,
    higher_is_better: bool | None = None,
    bound: str = "point",
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL,
) -> GateResult:
    """Compare ``metric`` (or its lower confidence bound) against ``threshold``; see the module
    docstring for the direction and the bound."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not math.isfinite(threshold)
    ):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    if bound not in GATE_BOUNDS:
        raise ValueError(f"gate bound must be one of {list(GATE_BOUNDS)}, got {bound!r}")
    data = _load(evaluation)
    raw = _lookup(data, metric)
    if higher_is_better is None:
        higher_is_better = not metric.endswith("_difference")
    op = ">=" if higher_is_better else "<="
    point = _to_float(raw)
    if bound == "point":
        if point is None:
            return GateResult(
                False,
                metric,
                None,
                float(threshold),
                f"quality gate FAILED: {metric} is undefined ({raw!r}) so it cannot be {op} "
                f"{threshold}",
                operator=op,
            )
        passed = point >= threshold if higher_is_better else point <= threshold
        verdict = "passed" if passed else "FAILED"
        hint = (
            ""
            if passed
            else "; improve the model or data, or change --metric/--threshold deliberately"
        )
        return GateResult(
            passed,
            metric,
            point,
            float(threshold),
            f"quality gate {verdict}: {metric} = {point:.4f}, required {op} {threshold}{hint}",
            point_value=point,
            operator=op,
        )

    if not higher_is_better:
        raise ValueError(
            f"bound 'lower' is for metrics where higher is better; {metric!r} must be at most "
            "the threshold, so gate it with bound 'point'"
        )
    z = z_value(confidence_level)
    level = float(confidence_level)
    sd = _to_float(_standard_deviation(data, metric))
    name = f"{metric} lower {level:.0%} confidence bound"
    if point is None or sd is None:
        why = (
            f"{metric} is undefined ({raw!r})"
            if point is None
            else f"{metric} has no bootstrap standard deviation (evaluate with --bootstrap 2 or more)"
        )
        return GateResult(
            False,
            metric,
            None,
            float(threshold),
            f"quality gate FAILED: {name} is undefined: {why}",
            bound=bound,
            confidence_level=level,
            point_value=point,
            standard_deviation=sd,
        )
    lower = lower_confidence_bound(point, sd, level)
    passed = lower >= threshold
    verdict = "passed" if passed else "FAILED"
    hint = (
        ""
        if passed
        else "; the metric is not above the threshold with that confidence: improve the model, "
        "evaluate on more test rows, or change --threshold/--confidence-level deliberately"
    )
    return GateResult(
        passed,
        metric,
        lower,
        float(threshold),
        f"quality gate {verdict}: {name} = {lower:.4f} ({metric} {point:.4f} - {z:.3f} x "
        f"std. dev. {sd:.4f}), required >= {threshold}{hint}",
        bound=bound,
        confidence_level=level,
        point_value=point,
        standard_deviation=sd,
    )


def record_quality_gate(
    evaluation_file: str | Path, result: GateResult, *, report_file: str | Path | None = None
) -> dict[str, Any]:
    """Write ``result`` as the ``quality_gate`` section of ``evaluation_file`` and re-render
    the HTML report (``report_file``, default ``report.html`` beside it) so both say which
    value and bound were compared. Returns the updated evaluation."""
    from .report import render_report, report_title

    path = Path(evaluation_file)
    data = _load(path)
    data["quality_gate"] = result.to_record()
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    report = Path(report_file) if report_file is not None else path.with_name("report.html")
    report.write_text(render_report(data, title=report_title(data)), encoding="utf-8")
    return data
