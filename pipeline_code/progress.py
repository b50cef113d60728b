"""``run-local``'s progress: a line per step on stderr (``[3/10] preprocess ... ok 0.4s``) and
the summary table. :mod:`pipeline_code.cli` re-exports these names."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

STEPS: tuple[str, ...] = (
    "generate",
    "etl",
    "preprocess",
    "train",
    "evaluate",
    "quality gate",
    "register",
    "baseline",
    "traffic",
    "drift check",
)


class QualityGateFailed(Exception):
    """The model did not meet the quality gate; the message says by how much."""


@dataclass
class StepRecord:
    """One row of the summary table."""

    index: int
    name: str
    status: str = "pending"
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Progress:
    """Plain progress lines on stderr (``[3/10] preprocess ... ok 0.4s``) and the summary table."""

    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    records: list[StepRecord] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.records = [StepRecord(i + 1, name) for i, name in enumerate(STEPS)]

    def add_steps(self, names: Sequence[str]) -> None:
        """Append steps (Level 3's loop) before they run, so every line shows the total."""
        known = {r.name for r in self.records}
        for name in names:
            if name not in known:
                self.records.append(StepRecord(len(self.records) + 1, name))

    def _line(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.started:7.1f}s] {text}", file=self.stream, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[StepRecord]:
        """Time a step; its ``detail`` goes into the progress line and the summary."""
        record = next(r for r in self.records if r.name == name)
        self._line(f"[{record.index}/{len(self.records)}] {name} ...")
        t0 = time.perf_counter()
        try:
            yield record
        except QualityGateFailed as exc:
            record.status, record.seconds, record.detail = (
                "FAILED",
                time.perf_counter() - t0,
                str(exc),
            )
            # The gate's message already says "quality gate FAILED: ...".
            self._line(f"[{record.index}/{len(self.records)}] {name}: {exc}")
            raise
        except BaseException as exc:
            record.status, record.seconds = "error", time.perf_counter() - t0
            record.detail = f"{type(exc).__name__}: {exc}"
            self._line(f"[{record.index}/{len(self.records)}] {name} ERROR: {exc}")
            raise
        record.status, record.seconds = "ok", time.perf_counter() - t0
        self._line(
            f"[{record.index}/{len(self.records)}] {name} ok in {record.seconds:.1f}s  {record.detail}"
        )

    def skip(self, name: str, reason: str) -> None:
        """Mark a step as skipped (e.g. generate when the user gives data)."""
        record = next(r for r in self.records if r.name == name)
        record.status, record.detail = "skipped", reason
        self._line(f"[{record.index}/{len(self.records)}] {name} skipped ({reason})")

    def table(self) -> str:
        """The summary table, fixed-width text."""
        header = ("#", "step", "status", "time", "details")
        rows = [
            (
                str(r.index),
                r.name,
                r.status,
                f"{r.seconds:.1f}s" if r.status in ("ok", "FAILED", "error") else "-",
                r.detail,
            )
            for r in self.records
        ]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header[:4])]

        def fmt(row: tuple[str, ...]) -> str:
            return (
                "  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
            )

        total = time.perf_counter() - self.started
        lines = [fmt(header), fmt((*("-" * w for w in widths), "-" * 7))]
        lines += [fmt(row) for row in rows]
        lines.append(f"total {total:.1f}s")
        return "\n".join(lines)
