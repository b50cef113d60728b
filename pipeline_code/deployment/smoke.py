"""Smoke test: every sample row through the model, in small batches, answers checked.

A batch passes when the model answers 2xx and the body has one prediction per row with a
``probability`` in [0, 1] (finite) and a ``predicted_label`` of 0 or 1, the response shape of
:mod:`pipeline_code.inference.handler` (``application/json``: ``{"predictions": [...]}``;
``text/csv``: lines ``probability,label``). A batch that fails with an HTTP error is sent
again row by row, so the report names the rows that fail rather than the batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import DeploymentError, UsageError
from .invoke import CSV, JSON, Invoker, InvokeResult
from .samples import SampleRow, csv_body

DEFAULT_BATCH_SIZE = 10
ACCEPTS = (JSON, CSV)


@dataclass(frozen=True)
class RowProblem:
    """A row (1-based line number in the sample file) and what was wrong with its answer."""

    line: int
    problem: str
    status: int = 0

    @property
    def server_error(self) -> bool:
        return self.status >= 500 or self.status == 0


@dataclass
class SmokeReport:
    """The outcome of :func:`run_smoke_test`."""

    target: str
    rows: int = 0
    requests: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """One line: passed, or which rows failed and why (similar problems grouped)."""
        if self.passed:
            return (
                f"smoke test passed: {self.rows} rows in {self.requests} requests to {self.target}, "
                "one prediction per row, probabilities in [0, 1]"
            )
        groups: dict[str, list[int]] = {}
        for p in self.problems:
            groups.setdefault(p.problem, []).append(p.line)
        parts = [f"{_lines(lines)}: {problem}" for problem, lines in groups.items()]
        shown = "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")
        failed = len({p.line for p in self.problems})
        return f"smoke test failed on {failed} of {self.rows} rows against {self.target}: {shown}"


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:10])
    more = f" (+{len(lines) - 10} more)" if len(lines) > 10 else ""
    return f"row{'s' if len(lines) > 1 else ''} {shown}{more}"


def check_predictions(
    result: InvokeResult, rows: Sequence[SampleRow], accept: str
) -> list[RowProblem]:
    """Problems with a 2xx answer for ``rows`` (empty when it is right)."""
    first = rows[0].line
    try:
        text = result.body.decode("utf-8")
    except UnicodeDecodeError:
        return [RowProblem(first, "the response body is not UTF-8", result.status)]
    items: list[tuple[object, object]] = []
    if accept == CSV:
        for line in text.splitlines():
            if not line.strip():
                continue
            cells = line.split(",")
            if len(cells) != 2:
                return [
                    RowProblem(
                        first,
                        f"CSV answer line {line[:60]!r} is not 'probability,label'",
                        result.status,
                    )
                ]
            items.append((cells[0], cells[1]))
    else:
        try:
            doc = json.loads(text)
        except ValueError:
            return [RowProblem(first, f"the response is not JSON: {text[:80]!r}", result.status)]
        preds = doc.get("predictions") if isinstance(doc, dict) else None
        if not isinstance(preds, list):
            return [RowProblem(first, 'the response has no "predictions" list', result.status)]
        for p in preds:
            if not isinstance(p, dict):
                return [RowProblem(first, f"prediction {p!r} is not an object", result.status)]
            items.append((p.get("probability"), p.get("predicted_label")))
    if len(items) != len(rows):
        lines = f"rows {rows[0].line}-{rows[-1].line}" if len(rows) > 1 else f"row {first}"
        return [
            RowProblem(
                r.line,
                f"{len(items)} predictions for {len(rows)} rows ({lines} sent together)",
                result.status,
            )
            for r in rows
        ]
    problems: list[RowProblem] = []
    for row, (prob, label) in zip(rows, items, strict=True):
        p = _number(prob)
        if p is None or not math.isfinite(p) or not 0.0 <= p <= 1.0:
            problems.append(
                RowProblem(row.line, f"probability {prob!r} is not in [0, 1]", result.status)
            )
        lab = _number(label)
        if lab not in (0.0, 1.0):
            problems.append(
                RowProblem(row.line, f"predicted_label {label!r} is not 0 or 1", result.status)
            )
    return problems


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _http_problem(result: InvokeResult) -> str:
    kind = (
        "server error" if result.status >= 500 else "client error" if result.status else "no answer"
    )
    status = f"HTTP {result.status} " if result.status else ""
    return f"{status}{kind}: {result.error or 'no message'}"[:300]


def run_smoke_test(
    invoker: Invoker,
    rows: Sequence[SampleRow],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    accept: str = JSON,
    max_problems: int = 50,
) -> SmokeReport:
    """Send ``rows`` in batches of ``batch_size`` as ``text/csv`` and check each answer."""
    if batch_size < 1:
        raise UsageError(f"--batch-size {batch_size} must be at least 1")
    if accept not in ACCEPTS:
        raise UsageError(f"--accept {accept!r} is not supported; use one of {list(ACCEPTS)}")
    report = SmokeReport(invoker.target, rows=len(rows))
    for start in range(0, len(rows), batch_size):
        batch = list(rows[start : start + batch_size])
        result = invoker.invoke(csv_body(batch), CSV, accept)
        report.requests += 1
        if result.ok:
            report.problems.extend(check_predictions(result, batch, accept))
        elif len(batch) == 1:
            report.problems.append(RowProblem(batch[0].line, _http_problem(result), result.status))
        else:
            # row by row, to name the rows the endpoint fails on
            for row in batch:
                single = invoker.invoke(csv_body([row]), CSV, accept)
                report.requests += 1
                if single.ok:
                    report.problems.extend(check_predictions(single, [row], accept))
                else:
                    report.problems.append(
                        RowProblem(row.line, _http_problem(single), single.status)
                    )
        if len(report.problems) >= max_problems:
            break
    return report


def require_pass(report: SmokeReport) -> None:
    """Raise :class:`DeploymentError` with the report's summary unless it passed."""
    if not report.passed:
        raise DeploymentError(report.summary())
