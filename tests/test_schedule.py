"""Pure: SYNCCORE_SCHEDULE and durations parsed, due times and next runs (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from synccore.errors import ConfigurationError
from synccore.schedule import (
    NEVER,
    due_time,
    format_duration,
    next_run,
    parse_duration,
    parse_schedule,
    parse_stored,
)

T0 = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, seconds",
    [("45s", 45), ("30m", 1800), ("6h", 21600), ("2d", 172800), ("90", 90), (" 1.5h ", 5400)],
)
def test_durations(text, seconds):
    assert parse_duration(text, "X") == seconds


@pytest.mark.parametrize("text", ["", "soon", "-5m", "0s", "6 hours", "5w"])
def test_bad_durations_name_the_setting(text):
    with pytest.raises(ConfigurationError, match="SYNCCORE_STALE_AFTER must be a duration"):
        parse_duration(text, "SYNCCORE_STALE_AFTER")


def test_interval_schedules_describe_themselves():
    assert parse_schedule("every 30m").describe() == "every 30m"
    assert parse_schedule("every  6h").interval == 21600
    assert parse_schedule("every 45s").describe() == "every 45s"
    assert format_duration(90) == "90s"


def test_cron_schedule_in_a_time_zone():
    schedule = parse_schedule("0 6 * * *", "Europe/Berlin")
    assert schedule.describe() == "cron 0 6 * * * (Europe/Berlin)"
    # 06:00 in Berlin in November is 05:00 UTC
    assert schedule.next_cron_after(T0 - timedelta(minutes=1)) == T0
    assert schedule.typical_gap(T0) == 86400
    assert parse_stored(schedule.stored()) == schedule


@pytest.mark.parametrize("text", ["every", "every day", "0 6 * *", "61 * * * *", "hourly"])
def test_bad_schedules_say_what_is_expected(text):
    with pytest.raises(ConfigurationError, match="SYNCCORE_SCHEDULE must be"):
        parse_schedule(text)


def test_bad_time_zone():
    with pytest.raises(ConfigurationError, match="SYNCCORE_TIMEZONE"):
        parse_schedule("0 6 * * *", "Mars/Olympus")


def test_interval_due_when_the_last_start_is_one_interval_old():
    every = parse_schedule("every 6h")
    assert due_time(every, None, T0, T0) == NEVER  # never synced: at once
    assert due_time(every, T0 - timedelta(hours=5), T0, T0) is None  # recent: wait
    assert due_time(every, T0 - timedelta(hours=6), T0, T0) == T0
    assert next_run(every, T0 - timedelta(hours=5), T0) == T0 + timedelta(hours=1)


def test_interval_after_a_skipped_tick_the_next_tick_is_due():
    every = parse_schedule("every 2s")
    start = T0
    assert due_time(every, start, start + timedelta(seconds=2.5), start) == start + timedelta(
        seconds=2
    )
    # the sync that was active at +2 s still holds the catalog: the next tick is +4 s, once
    assert due_time(every, start, start + timedelta(seconds=4.1), start) == start + timedelta(
        seconds=4
    )


def test_cron_due_at_each_cron_time_but_not_before_the_worker_started():
    cron = parse_schedule("*/5 * * * *")
    started = T0 + timedelta(minutes=1)
    assert due_time(cron, None, T0 + timedelta(minutes=3), started) is None  # 05:00 was before
    assert due_time(cron, None, T0 + timedelta(minutes=5, seconds=3), started) == T0 + timedelta(
        minutes=5
    )
    assert next_run(cron, None, T0 + timedelta(minutes=6)) == T0 + timedelta(minutes=10)
