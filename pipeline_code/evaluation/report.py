"""A self-contained HTML report: metrics, confusion matrix, ROC curve (inline SVG), bias tables.

No plotting library: the ROC curve is an SVG polyline, so the report renders anywhere and the
Processing container needs nothing beyond the ML stack.
"""

from __future__ import annotations

import html
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:60rem}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:0.3rem 0.6rem;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.cm td{width:6rem;text-align:center;font-size:1.1rem}
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if value is None:
        return "n/a"
    return html.escape(str(value))


def roc_svg(fpr: list[float], tpr: list[float], *, auc: Any = None, size: int = 320) -> str:
    """An SVG ROC curve with the chance diagonal and axis labels."""
    pad = 40
    inner = size - 2 * pad

    def xy(x: float, y: float) -> str:
        return f"{pad + x * inner:.1f},{pad + (1 - y) * inner:.1f}"

    points = " ".join(xy(x, y) for x, y in zip(fpr, tpr, strict=True))
    title = f"ROC curve (AUC {_fmt(auc)})" if auc is not None else "ROC curve"
    ticks = "".join(
        f'<text x="{pad + t * inner:.1f}" y="{size - pad + 16}" font-size="10" text-anchor="middle">{t:.1f}</text>'
        f'<text x="{pad - 6}" y="{pad + (1 - t) * inner + 3:.1f}" font-size="10" text-anchor="end">{t:.1f}</text>'
        for t in (0.0, 0.5, 1.0)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" '
        f'aria-label="{html.escape(title)}">'
        f'<text x="{size / 2}" y="18" font-size="13" text-anchor="middle">{html.escape(title)}</text>'
        f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="none" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad + inner}" x2="{pad + inner}" y2="{pad}" stroke="#bbb" stroke-dasharray="4 3"/>'
        f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="2"/>'
        f"{ticks}"
        f'<text x="{size / 2}" y="{size - 6}" font-size="11" text-anchor="middle">false positive rate</text>'
        f'<text x="12" y="{size / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {size / 2})">true positive rate</text>'
        "</svg>"
    )


def render_report(evaluation: dict[str, Any], *, title: str = "Model evaluation") -> str:
    """The HTML page for an ``evaluation.json`` object."""
    metrics = evaluation.get("binary_classification_metrics", {})
    rows = "".join(
        f'<tr><td class="l">{html.escape(name)}</td><td>{_fmt(m.get("value"))}</td>'
        f"<td>{_fmt(m.get('standard_deviation'))}</td></tr>"
        for name, m in metrics.items()
        if isinstance(m, dict) and "value" in m
    )
    cm = metrics.get("confusion_matrix", {})
    cm_html = (
        '<table class="cm"><tr><th></th><th>predicted 0</th><th>predicted 1</th></tr>'
        + "".join(
            f"<tr><th>actual {a}</th><td>{_fmt(cm.get(a, {}).get('0'))}</td><td>{_fmt(cm.get(a, {}).get('1'))}</td></tr>"
            for a in ("0", "1")
        )
        + "</table>"
    )
    roc = metrics.get("receiver_operating_characteristic_curve")
    roc_html = (
        roc_svg(
            roc["false_positive_rates"],
            roc["true_positive_rates"],
            auc=metrics.get("auc", {}).get("value"),
        )
        if roc
        else "<p>ROC curve undefined: the test data has only one class.</p>"
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
            + "</p><table><tr><th class='l'>group</th><th>rows</th><th>actual positive rate</th>"
            "<th>selection rate</th><th>true positive rate</th><th>accuracy</th></tr>"
            f"{group_rows}</table>"
        )
    info = evaluation.get("evaluation_info", {})
    info_html = ", ".join(f"{html.escape(str(k))}: {_fmt(v)}" for k, v in info.items())
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{info_html}</p>"
        "<h2>Metrics</h2><table><tr><th class='l'>metric</th><th>value</th><th>std. dev.</th></tr>"
        f"{rows}</table>"
        f"<h2>Confusion matrix</h2>{cm_html}"
        f"<h2>ROC curve</h2>{roc_html}"
        + (f"<h2>Bias</h2>{bias_html}" if bias_html else "")
        + "</body></html>\n"
    )
