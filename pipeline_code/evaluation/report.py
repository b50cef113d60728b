"""A self-contained HTML report: the labels and decision threshold, metrics with their lower
confidence bounds, confusion matrix, ROC and precision-recall curves (inline SVG), feature
importance, the quality-gate decision and bias tables.

No plotting library: the curves are SVG polylines and the importance chart SVG bars, so the
report renders anywhere and the Processing container needs nothing beyond the ML stack.
Labels are shown as the user's own values (``evaluation_info.labels``), never as the encoded
0/1 (which stay the machine keys of ``evaluation.json``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:60rem}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:0.3rem 0.6rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.cm td{width:6rem;text-align:center;font-size:1.1rem}
.pass{color:#1a7f37}.fail{color:#b42318}
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if value is None:
        return "n/a"
    return html.escape(str(value))


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def label_names(evaluation: dict[str, Any]) -> dict[str, str]:
    """Encoded label (``"0"``/``"1"``) -> the user's label value, from ``evaluation_info``
    (``{"0": "0", "1": "1"}`` for an evaluation written without labels)."""
    labels = evaluation.get("evaluation_info", {}).get("labels") or {}
    return {
        "1": str(labels.get("positive", "1")),
        "0": str(labels.get("negative", "0")),
    }


def report_title(evaluation: dict[str, Any]) -> str:
    """The report's title: ``Model evaluation: <schema name>``."""
    schema = evaluation.get("evaluation_info", {}).get("schema")
    return f"Model evaluation: {schema}" if schema else "Model evaluation"


def curve_svg(
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    title: str,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
    baseline: float | None = None,
    marker: tuple[float, float] | None = None,
    marker_label: str = "",
    size: int = 320,
) -> str:
    """An SVG curve on the unit square with axis labels; optionally the chance diagonal, a
    horizontal baseline and a marked operating point."""
    pad = 40
    inner = size - 2 * pad

    def px(x: float) -> float:
        return pad + x * inner

    def py(y: float) -> float:
        return pad + (1 - y) * inner

    points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    ticks = "".join(
        f'<text x="{px(t):.1f}" y="{size - pad + 16}" font-size="10" text-anchor="middle">{t:.1f}</text>'
        f'<text x="{pad - 6}" y="{py(t) + 3:.1f}" font-size="10" text-anchor="end">{t:.1f}</text>'
        for t in (0.0, 0.5, 1.0)
    )
    extra = ""
    if diagonal:
        extra += f'<line x1="{pad}" y1="{pad + inner}" x2="{pad + inner}" y2="{pad}" stroke="#bbb" stroke-dasharray="4 3"/>'
    if baseline is not None:
        extra += (
            f'<line x1="{pad}" y1="{py(baseline):.1f}" x2="{pad + inner}" y2="{py(baseline):.1f}" '
            'stroke="#bbb" stroke-dasharray="4 3"/>'
        )
    if marker is not None:
        mx, my = marker
        extra += (
            f'<circle cx="{px(mx):.1f}" cy="{py(my):.1f}" r="4" fill="#d62728">'
            f"<title>{html.escape(marker_label)}</title></circle>"
        )
        if marker_label:
            anchor = "end" if mx > 0.6 else "start"
            dx = -8 if mx > 0.6 else 8
            extra += (
                f'<text x="{px(mx) + dx:.1f}" y="{py(my) + 14:.1f}" font-size="10" '
                f'text-anchor="{anchor}" fill="#d62728">{html.escape(marker_label)}</text>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" '
        f'aria-label="{html.escape(title)}">'
        f'<text x="{size / 2}" y="18" font-size="13" text-anchor="middle">{html.escape(title)}</text>'
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#999"/>'
        f"{extra}"
        f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="2"/>'
        f"{ticks}"
        f'<text x="{size / 2}" y="{size - 6}" font-size="11" text-anchor="middle">{html.escape(x_label)}</text>'
        f'<text x="12" y="{size / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {size / 2})">{html.escape(y_label)}</text>'
        "</svg>"
    )


def roc_svg(
    fpr: list[float],
    tpr: list[float],
    *,
    auc: Any = None,
    size: int = 320,
    marker: tuple[float, float] | None = None,
    marker_label: str = "",
) -> str:
    """An SVG ROC curve with the chance diagonal and axis labels."""
    title = f"ROC curve (AUC {_fmt(auc)})" if auc is not None else "ROC curve"
    return curve_svg(
        fpr,
        tpr,
        title=title,
        x_label="false positive rate",
        y_label="true positive rate",
        diagonal=True,
        marker=marker,
        marker_label=marker_label,
        size=size,
    )


def pr_svg(
    recalls: list[float],
    precisions: list[float],
    *,
    positive_rate: float | None = None,
    marker: tuple[float, float] | None = None,
    marker_label: str = "",
    size: int = 320,
) -> str:
    """An SVG precision-recall curve; the dashed line is the positive rate (a random model)."""
    return curve_svg(
        recalls,
        precisions,
        title="Precision-recall curve",
        x_label="recall",
        y_label="precision",
        baseline=positive_rate,
        marker=marker,
        marker_label=marker_label,
        size=size,
    )


def importance_svg(names: Sequence[str], means: Sequence[float], *, width: int = 560) -> str:
    """Horizontal bars of permutation importance (negative values drawn as zero-length)."""
    bar_h, gap, left, right = 16, 6, 170, 70
    inner = width - left - right
    top = 10
    height = top + len(names) * (bar_h + gap) + 10
    biggest = max([m for m in means if m > 0], default=0.0) or 1.0
    bars = []
    for i, (name, mean) in enumerate(zip(names, means, strict=True)):
        y = top + i * (bar_h + gap)
        w = max(mean, 0.0) / biggest * inner
        bars.append(
            f'<text x="{left - 6}" y="{y + bar_h - 4}" font-size="11" text-anchor="end">'
            f"{html.escape(name)}</text>"
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#1f77b4"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 4}" font-size="10">{mean:.4f}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        'aria-label="Permutation feature importance">' + "".join(bars) + "</svg>"
    )


def _labels_html(evaluation: dict[str, Any], names: dict[str, str]) -> str:
    info = evaluation.get("evaluation_info", {})
    labels = info.get("labels")
    threshold = info.get("decision_threshold")
    parts = []
    if labels:
        parts.append(
            f"Target <b>{html.escape(str(labels.get('target', '')))}</b>: positive class "
            f"<b>{html.escape(names['1'])}</b>, negative class <b>{html.escape(names['0'])}</b> "
            "(the values in your data)."
        )
    if threshold is not None:
        parts.append(
            f"Decision threshold <b>{_fmt(threshold)}</b>: a row is predicted "
            f"<b>{html.escape(names['1'])}</b> when the model's probability of "
            f"{html.escape(names['1'])} is at least {_fmt(threshold)}, else "
            f"<b>{html.escape(names['0'])}</b>."
        )
    return f"<p>{' '.join(parts)}</p>" if parts else ""


def _gate_html(gate: dict[str, Any]) -> str:
    if not gate:
        return ""
    cls = "pass" if gate.get("passed") else "fail"
    verdict = "passed" if gate.get("passed") else "FAILED"
    bound = gate.get("bound", "point")
    if bound == "lower":
        compared = (
            f"the lower {_fmt(gate.get('confidence_level'))} one-sided confidence bound of "
            f"{html.escape(str(gate.get('metric')))} (value {_fmt(gate.get('point_value'))}, "
            f"bootstrap std. dev. {_fmt(gate.get('standard_deviation'))})"
        )
    else:
        compared = f"the point value of {html.escape(str(gate.get('metric')))}"
    return (
        f"<h2>Quality gate</h2><p class='{cls}'><b>{verdict}</b>: compared {compared}: "
        f"{_fmt(gate.get('compared_value'))} {html.escape(str(gate.get('operator', '>=')))} "
        f"{_fmt(gate.get('threshold'))}.</p><p>{html.escape(str(gate.get('message', '')))}</p>"
    )


def _importance_html(fi: dict[str, Any]) -> str:
    if not fi:
        return ""
    features = fi.get("features") or {}
    if not features:
        reason = fi.get("skipped") or "no features"
        return f"<h2>Feature importance</h2><p>Not computed: {html.escape(str(reason))}.</p>"
    names = list(features)
    means = [float(features[n]["mean"]) for n in names]
    rows = "".join(
        f'<tr><td class="l">{html.escape(n)}</td><td>{_fmt(features[n]["mean"])}</td>'
        f"<td>{_fmt(features[n]['std'])}</td></tr>"
        for n in names
    )
    return (
        "<h2>Feature importance</h2>"
        f"<p>Permutation importance on the test split: the drop in {html.escape(str(fi.get('scoring')))} "
        f"when a feature's values are shuffled ({fi.get('rows')} rows"
        + (f" sampled of {fi.get('test_rows')}" if fi.get("rows") != fi.get("test_rows") else "")
        + f", {fi.get('n_repeats')} repeats, seed {fi.get('seed')}). Near zero or negative: the "
        "model does not rely on the feature.</p>"
        + importance_svg(names, means)
        + "<table><tr><th class='l'>feature</th><th>mean drop</th><th>std. dev.</th></tr>"
        + rows
        + "</table>"
    )


def render_report(evaluation: dict[str, Any], *, title: str = "Model evaluation") -> str:
    """The HTML page for an ``evaluation.json`` object."""
    metrics = evaluation.get("binary_classification_metrics", {})
    names = label_names(evaluation)
    bounds = evaluation.get("confidence_bounds") or {}
    level = bounds.get("confidence_level")
    bound_head = (
        f"<th>lower {_fmt(level)} bound</th>" if bounds else ""
    )  # one-sided, value - z * std. dev.
    rows = "".join(
        f'<tr><td class="l">{html.escape(name)}</td><td>{_fmt(m.get("value"))}</td>'
        f"<td>{_fmt(m.get('standard_deviation'))}</td>"
        + (f"<td>{_fmt(bounds.get(name, {}).get('lower'))}</td>" if bounds else "")
        + "</tr>"
        for name, m in metrics.items()
        if isinstance(m, dict) and "value" in m
    )
    bound_note = (
        f"<p>Lower bound: {html.escape(str(bounds.get('method', '')))}, z = {_fmt(bounds.get('z'))}.</p>"
        if bounds
        else ""
    )
    cm = metrics.get("confusion_matrix", {})
    cm_html = (
        '<table class="cm"><tr><th></th>'
        f"<th>predicted {html.escape(names['0'])}</th><th>predicted {html.escape(names['1'])}</th></tr>"
        + "".join(
            f"<tr><th>actual {html.escape(names[a])}</th><td>{_fmt(cm.get(a, {}).get('0'))}</td>"
            f"<td>{_fmt(cm.get(a, {}).get('1'))}</td></tr>"
            for a in ("0", "1")
        )
        + "</table>"
    )
    info = evaluation.get("evaluation_info", {})
    threshold = _num(info.get("decision_threshold"))
    at = f"threshold {threshold:g}" if threshold is not None else ""
    tpr = _num(metrics.get("recall", {}).get("value"))
    fpr = _num(metrics.get("false_positive_rate", {}).get("value"))
    precision = _num(metrics.get("precision", {}).get("value"))
    roc = metrics.get("receiver_operating_characteristic_curve")
    present = info.get("classes_present")
    only = (
        f"only {html.escape(str(present[0]))} rows"
        if present and len(present) == 1
        else "only one class"
    )
    roc_html = (
        roc_svg(
            roc["false_positive_rates"],
            roc["true_positive_rates"],
            auc=metrics.get("auc", {}).get("value"),
            marker=(fpr, tpr) if fpr is not None and tpr is not None else None,
            marker_label=at,
        )
        if roc
        else f"<p>ROC curve undefined: the test data has {only}.</p>"
    )
    pr = metrics.get("precision_recall_curve")
    pr_html = (
        pr_svg(
            pr["recalls"],
            pr["precisions"],
            positive_rate=_num(info.get("test_positive_rate")),
            marker=(tpr, precision) if tpr is not None and precision is not None else None,
            marker_label=at,
        )
        if pr
        else f"<p>Precision-recall curve undefined: the test data has {only}.</p>"
    )
    bias_html = ""
    for attr, b in evaluation.get("bias_metrics", {}).items():
        group_rows = "".join(
            f'<tr><td class="l">{html.escape(g)}</td><td>{v["count"]}</td><td>{_fmt(v["base_rate"])}</td>'
            f"<td>{_fmt(v['selection_rate'])}</td><td>{_fmt(v['true_positive_rate'])}</td>"
            f"<td>{_fmt(v['accuracy'])}</td></tr>"
            for g, v in b["groups"].items()
        )
        bias_html += (
            f"<h3>{html.escape(attr)}</h3>"
            f"<p>demographic parity difference {_fmt(b['demographic_parity_difference'])}, "
            f"equal opportunity difference {_fmt(b['equal_opportunity_difference'])}, "
            f"disparate impact {_fmt(b['disparate_impact'])}"
            + (
                f" (groups under {b['min_group_size']} rows left out: {html.escape(', '.join(b['excluded_groups']))})"
                if b["excluded_groups"]
                else ""
            )
            + "</p><table><tr><th class='l'>group</th><th>rows</th>"
            f"<th>actual {html.escape(names['1'])} rate</th>"
            f"<th>predicted {html.escape(names['1'])} rate</th><th>true positive rate</th>"
            "<th>accuracy</th></tr>"
            f"{group_rows}</table>"
        )
    shown = {k: v for k, v in info.items() if k not in ("labels", "classes_present", "warnings")}
    info_html = ", ".join(f"{html.escape(str(k))}: {_fmt(v)}" for k, v in shown.items())
    warnings_html = "".join(
        f"<p class='fail'>Warning: {html.escape(str(w))}</p>" for w in info.get("warnings", [])
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>{_labels_html(evaluation, names)}{warnings_html}"
        f"<p>{info_html}</p>"
        + _gate_html(evaluation.get("quality_gate") or {})
        + "<h2>Metrics</h2><table><tr><th class='l'>metric</th><th>value</th><th>std. dev.</th>"
        f"{bound_head}</tr>{rows}</table>{bound_note}"
        f"<h2>Confusion matrix</h2>{cm_html}"
        f"<h2>ROC curve</h2>{roc_html}"
        f"<h2>Precision-recall curve</h2>{pr_html}"
        + _importance_html(evaluation.get("feature_importance") or {})
        + (f"<h2>Bias</h2>{bias_html}" if bias_html else "")
        + "</body></html>\n"
    )
