"""The retraining guard: may a drift alarm start the training pipeline now?

Pure Python, no AWS calls: the local loop uses it directly and the ``DriftRetraining`` state
machine implements the same rules (in the same order) with JSONata over
``ListPipelineExecutions``. Rules, first match wins:

1. ``executing``: an execution is still ``Executing`` (or ``Stopping``): never two at once.
2. ``cooldown``: the newest execution started less than ``cooldown_seconds`` ago. A start time
   in the future (clock skew between the caller and SageMaker) counts as "just started", so
   skew can only delay a retraining, never let two through.
3. ``daily-cap``: ``max_per_day`` executions already started since 00:00 UTC today.
4. otherwise ``started`` (including the first run ever, with no history).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

ACTIVE_STATUSES: Final = frozenset({"Executing", "Stopping"})
"""``PipelineExecutionStatus`` values that block a new start."""

REASON_STARTED: Final = "started"
REASON_EXECUTING: Final = "executing"
REASON_COOLDOWN: Final = "cooldown"
REASON_DAILY_CAP: Final = "daily-cap"
REASONS: Final = (REASON_STARTED, REASON_EXECUTING, REASON_COOLDOWN, REASON_DAILY_CAP)
MAX_PER_DAY_LIMIT: Final = 48


@dataclass(frozen=True)
class GuardSettings:
    """The guard's limits: ``cooldown_seconds`` >= 0, ``max_per_day`` in 1..48."""

    cooldown_seconds: int
    max_per_day: int

    def __post_init__(self) -> None:
        if isinstance(self.cooldown_seconds, bool) or not isinstance(self.cooldown_seconds, int):
            raise TypeError(
                f"cooldown_seconds must be an int number of seconds, got "
                f"{self.cooldown_seconds!r}: pass whole seconds, e.g. 3600"
            )
        if self.cooldown_seconds < 0:
            raise ValueError(
                f"cooldown_seconds must be >= 0, got {self.cooldown_seconds}: use 0 for no cooldown"
            )
        if isinstance(self.max_per_day, bool) or not isinstance(self.max_per_day, int):
            raise TypeError(f"max_per_day must be an int, got {self.max_per_day!r}")
        if not 1 <= self.max_per_day <= MAX_PER_DAY_LIMIT:
            raise ValueError(
                f"max_per_day must be between 1 and {MAX_PER_DAY_LIMIT}, got "
                f"{self.max_per_day}: pick a value in that range"
            )


@dataclass(frozen=True)
class Execution:
    """One past pipeline execution, as ``ListPipelineExecutions`` summarises it."""

    start_time: dt.datetime
    status: str
    arn: str = ""


@dataclass(frozen=True)
class Decision:
    """The guard's answer: ``start`` or not, a ``reason`` from :data:`REASONS` and a message."""

    start: bool
    reason: str
    message: str


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware, got naive {value.isoformat()}: "
            "pass e.g. datetime.now(pipeline_code.compat.UTC)"
        )
    return value.astimezone(dt.timezone.utc)


def utc_day_start(now: dt.datetime) -> dt.datetime:
    """00:00 UTC of the UTC day ``now`` falls in."""
    utc = _aware(now, "now")
    return utc.replace(hour=0, minute=0, second=0, microsecond=0)


def decide(now: dt.datetime, history: Iterable[Execution], settings: GuardSettings) -> Decision:
    """Decide whether to start the training pipeline at ``now`` given past executions."""
    now_utc = _aware(now, "now")
    executions = [
        Execution(_aware(e.start_time, f"start time of execution {e.arn or '?'}"), e.status, e.arn)
        for e in history
    ]
    active = [e for e in executions if e.status in ACTIVE_STATUSES]
    if active:
        return Decision(
            start=False,
            reason=REASON_EXECUTING,
            message=f"execution {active[0].arn or '?'} is still {active[0].status}",
        )
    if executions:
        newest = max(e.start_time for e in executions)
        elapsed = (now_utc - newest).total_seconds()
        if elapsed < settings.cooldown_seconds:
            return Decision(
                start=False,
                reason=REASON_COOLDOWN,
                message=(
                    f"last execution started at {newest.isoformat()}, "
                    f"{max(elapsed, 0.0):.0f} s ago; cooldown is {settings.cooldown_seconds} s"
                ),
            )
    day_start = utc_day_start(now_utc)
    today = sum(1 for e in executions if e.start_time >= day_start)
    if today >= settings.max_per_day:
        return Decision(
            start=False,
            reason=REASON_DAILY_CAP,
            message=f"{today} executions started today (UTC); the cap is {settings.max_per_day}",
        )
    return Decision(
        start=True,
        reason=REASON_STARTED,
        message=(
            "first execution" if not executions else f"{today} executions started today (UTC)"
        ),
    )
