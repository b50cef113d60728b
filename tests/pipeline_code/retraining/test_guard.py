"""The retraining guard's rules: cooldown, daily cap, concurrency, first run, clock skew."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline_code import compat
from pipeline_code.retraining.guard import (
    REASON_COOLDOWN,
    REASON_DAILY_CAP,
    REASON_EXECUTING,
    REASON_STARTED,
    Execution,
    GuardSettings,
    decide,
    utc_day_start,
)

UTC = compat.UTC
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SETTINGS = GuardSettings(cooldown_seconds=3600, max_per_day=3)


def done(at: dt.datetime, status: str = "Succeeded") -> Execution:
    return Execution(start_time=at, status=status, arn=f"arn:{at.isoformat()}")


def test_first_run_ever_starts() -> None:
    decision = decide(NOW, [], SETTINGS)
    assert decision.start
    assert decision.reason == REASON_STARTED
    assert decision.message == "first execution"


def test_cooldown_blocks_until_it_has_passed() -> None:
    last = NOW - dt.timedelta(seconds=3599)
    blocked = decide(NOW, [done(last)], SETTINGS)
    assert not blocked.start
    assert blocked.reason == REASON_COOLDOWN
    assert "3599 s ago" in blocked.message
    assert decide(NOW + dt.timedelta(seconds=1), [done(last)], SETTINGS).start


def test_zero_cooldown_allows_back_to_back() -> None:
    settings = GuardSettings(cooldown_seconds=0, max_per_day=3)
    assert decide(NOW, [done(NOW)], settings).start


@pytest.mark.parametrize("status", ["Executing", "Stopping"])
def test_no_start_while_one_is_running(status: str) -> None:
    old = NOW - dt.timedelta(days=2)
    decision = decide(NOW, [done(old, status)], SETTINGS)
    assert not decision.start
    assert decision.reason == REASON_EXECUTING
    assert status in decision.message


def test_failed_and_stopped_runs_do_not_block_but_count() -> None:
    history = [
        done(NOW - dt.timedelta(hours=h), s)
        for h, s in ((2, "Failed"), (4, "Stopped"), (6, "Succeeded"))
    ]
    decision = decide(NOW, history, SETTINGS)
    assert not decision.start
    assert decision.reason == REASON_DAILY_CAP
    assert "3 executions started today" in decision.message


def test_daily_cap_resets_at_utc_midnight() -> None:
    settings = GuardSettings(cooldown_seconds=60, max_per_day=2)
    history = [
        done(dt.datetime(2026, 12, 3, 23, 0, tzinfo=UTC)),
        done(dt.datetime(2026, 12, 3, 22, 0, tzinfo=UTC)),
    ]
    before = dt.datetime(2026, 12, 3, 23, 59, 59, tzinfo=UTC)
    after = dt.datetime(2026, 12, 4, 0, 0, 0, tzinfo=UTC)
    assert decide(before, history, settings).reason == REASON_DAILY_CAP
    assert decide(after, history, settings).start


def test_day_boundary_is_utc_not_local_time() -> None:
    # 00:30 in UTC+02:00 is 22:30 UTC of the previous day: yesterday's runs still count.
    plus2 = dt.timezone(dt.timedelta(hours=2))
    now = dt.datetime(2026, 12, 4, 0, 30, tzinfo=plus2)
    assert utc_day_start(now) == dt.datetime(2026, 12, 3, tzinfo=UTC)
    settings = GuardSettings(cooldown_seconds=60, max_per_day=1)
    history = [done(dt.datetime(2026, 12, 3, 10, 0, tzinfo=UTC))]
    assert decide(now, history, settings).reason == REASON_DAILY_CAP


def test_clock_skew_future_start_counts_as_just_started() -> None:
    future = NOW + dt.timedelta(seconds=30)
    decision = decide(NOW, [done(future)], GuardSettings(cooldown_seconds=10, max_per_day=5))
    assert not decision.start
    assert decision.reason == REASON_COOLDOWN
    assert "0 s ago" in decision.message


def test_order_executing_before_cooldown_before_cap() -> None:
    settings = GuardSettings(cooldown_seconds=3600, max_per_day=1)
    recent = done(NOW - dt.timedelta(minutes=5))
    assert decide(
        NOW, [recent, done(NOW - dt.timedelta(days=1), "Executing")], settings
    ).reason == (REASON_EXECUTING)
    assert decide(NOW, [recent], settings).reason == REASON_COOLDOWN


def test_naive_times_are_rejected_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"now must be timezone-aware, got naive .*datetime.now"):
        decide(dt.datetime(2026, 12, 3), [], SETTINGS)
    with pytest.raises(ValueError, match="start time of execution arn:x must be timezone-aware"):
        decide(NOW, [Execution(dt.datetime(2026, 12, 3), "Succeeded", "arn:x")], SETTINGS)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"cooldown_seconds": -1, "max_per_day": 1},
            ValueError,
            r"cooldown_seconds must be >= 0, got -1",
        ),
        (
            {"cooldown_seconds": 1.5, "max_per_day": 1},
            TypeError,
            r"cooldown_seconds must be an int",
        ),
        ({"cooldown_seconds": 0, "max_per_day": 0}, ValueError, r"between 1 and 48, got 0"),
        ({"cooldown_seconds": 0, "max_per_day": 49}, ValueError, r"between 1 and 48, got 49"),
        ({"cooldown_seconds": 0, "max_per_day": True}, TypeError, r"max_per_day must be an int"),
    ],
)
def test_settings_validation(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        GuardSettings(**kwargs)  # type: ignore[arg-type]
