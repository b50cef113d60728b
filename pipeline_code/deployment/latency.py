"""Latency and throughput test: p50/p99 measured client-side, a p99 threshold.

Two cases by default: ``--requests`` requests of 1 row and as many of ``--batch-rows`` rows
(rows taken from the sample file in turn, cycled when the file is shorter). ``--warmup``
requests per case come first and are not measured. With ``--concurrency`` above 1 the requests
of a case are spread over that many threads, and the throughput column shows what the endpoint
sustained. Percentiles are nearest-rank (the p99 of 100 requests is the 99th slowest), so each
reported value is a latency that was really measured.

The test fails when any request fails or a case's p99 is above its threshold (``--p99-ms``, or
``--batch-p99-ms`` for the batch case when given).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .errors import DeploymentError, UsageError
from .invoke import CSV, JSON, Invoker, InvokeResult
from .samples import SampleRow, csv_body

DEFAULT_REQUESTS = 100
DEFAULT_BATCH_ROWS = 100
DEFAULT_WARMUP = 5


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0 < q <= 100) of ``values`` (not empty)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile q={q} must be in (0, 100]")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class CaseResult:
    """One case (rows per request) of the latency test."""

    rows_per_request: int
    latencies_ms: tuple[float, ...]
    errors: tuple[str, ...]
    wall_seconds: float
    p99_threshold_ms: float | None

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + len(self.errors)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50) if self.latencies_ms else math.nan

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99) if self.latencies_ms else math.nan

    @property
    def max_ms(self) -> float:
        return max(self.latencies_ms) if self.latencies_ms else math.nan

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.wall_seconds if self.wall_seconds > 0 else math.nan

    @property
    def passed(self) -> bool:
        if self.errors or not self.latencies_ms:
            return False
        return self.p99_threshold_ms is None or self.p99_ms <= self.p99_threshold_ms


@dataclass
class LatencyReport:
    """The outcome of :func:`run_latency_test`."""

    target: str
    concurrency: int
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.cases)

    def table(self) -> str:
        """A fixed-width table, one line per case."""
        head = (
            f"{'rows/request':>12} {'requests':>8} {'errors':>6} {'p50 ms':>9} {'p99 ms':>9} "
            f"{'max ms':>9} {'req/s':>8} {'rows/s':>9} {'p99 limit':>9}  result"
        )
        lines = [
            f"latency test against {self.target} (concurrency {self.concurrency})",
            head,
            "-" * len(head),
        ]
        for c in self.cases:
            limit = f"{c.p99_threshold_ms:.1f}" if c.p99_threshold_ms is not None else "-"
            lines.append(
                f"{c.rows_per_request:>12} {c.requests:>8} {len(c.errors):>6} {c.p50_ms:>9.2f} "
                f"{c.p99_ms:>9.2f} {c.max_ms:>9.2f} {c.requests_per_second:>8.1f} "
                f"{c.requests_per_second * c.rows_per_request:>9.0f} {limit:>9}  "
                f"{'PASS' if c.passed else 'FAIL'}"
            )
        return "\n".join(lines)

    def summary(self) -> str:
        """One line: passed, or the first failing case and why."""
        if self.passed:
            parts = ", ".join(
                f"{c.rows_per_request} rows p99 {c.p99_ms:.1f} ms" for c in self.cases
            )
            return f"latency test passed against {self.target}: {parts}"
        reasons = []
        for c in self.cases:
            if c.errors:
                reasons.append(
                    f"{len(c.errors)} of {c.requests} requests of {_rows(c.rows_per_request)} failed "
                    f"(first: {c.errors[0]})"
                )
            elif not c.passed:
                reasons.append(
                    f"p99 of {c.rows_per_request}-row requests is {c.p99_ms:.1f} ms, above the "
                    f"limit of {c.p99_threshold_ms:.1f} ms (p50 {c.p50_ms:.1f} ms)"
                )
        return f"latency test failed against {self.target}: " + "; ".join(reasons)


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def _bodies(rows: Sequence[SampleRow], rows_per_request: int, count: int) -> list[bytes]:
    out = []
    n = len(rows)
    for i in range(count):
        start = (i * rows_per_request) % n
        batch = [rows[(start + k) % n] for k in range(rows_per_request)]
        out.append(csv_body(batch))
    return out


def _run_case(
    invoker: Invoker, bodies: list[bytes], concurrency: int, accept: str
) -> tuple[list[InvokeResult], float]:
    def one(body: bytes) -> InvokeResult:
        t0 = time.perf_counter()
        r = invoker.invoke(body, CSV, accept)
        # measured around the whole call, as a client sees it
        return InvokeResult(r.status, b"", r.content_type, r.error, time.perf_counter() - t0)

    start = time.perf_counter()
    if concurrency == 1:
        results = [one(b) for b in bodies]
    else:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="latency") as pool:
            results = list(pool.map(one, bodies))
    return results, time.perf_counter() - start


def run_latency_test(
    invoker: Invoker,
    rows: Sequence[SampleRow],
    *,
    requests: int = DEFAULT_REQUESTS,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    p99_ms: float | None = None,
    batch_p99_ms: float | None = None,
    warmup: int = DEFAULT_WARMUP,
    concurrency: int = 1,
    accept: str = JSON,
) -> LatencyReport:
    """Measure 1-row and ``batch_rows``-row requests (``batch_rows`` 0 or 1: 1-row case only)."""
    for name, value, low in (
        ("--requests", requests, 1),
        ("--batch-rows", batch_rows, 0),
        ("--warmup", warmup, 0),
        ("--concurrency", concurrency, 1),
    ):
        if value < low:
            raise UsageError(f"{name} {value} must be at least {low}")
    for name, limit in (("--p99-ms", p99_ms), ("--batch-p99-ms", batch_p99_ms)):
        if limit is not None and not (limit > 0 and math.isfinite(limit)):
            raise UsageError(f"{name} {limit} must be a positive number of milliseconds")
    if not rows:
        raise UsageError("the latency test needs at least one sample row")
    sizes = [1] + ([batch_rows] if batch_rows > 1 else [])
    report = LatencyReport(invoker.target, concurrency)
    for size in sizes:
        for body in _bodies(rows, size, warmup):
            invoker.invoke(body, CSV, accept)
        results, wall = _run_case(invoker, _bodies(rows, size, requests), concurrency, accept)
        limit = batch_p99_ms if size > 1 and batch_p99_ms is not None else p99_ms
        report.cases.append(
            CaseResult(
                rows_per_request=size,
                latencies_ms=tuple(r.seconds * 1000.0 for r in results if r.ok),
                errors=tuple(
                    f"HTTP {r.status}: {r.error}" if r.status else r.error
                    for r in results
                    if not r.ok
                ),
                wall_seconds=wall,
                p99_threshold_ms=limit,
            )
        )
    return report


def require_pass(report: LatencyReport) -> None:
    """Raise :class:`DeploymentError` with the report's summary unless it passed."""
    if not report.passed:
        raise DeploymentError(report.summary())
