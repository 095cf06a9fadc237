"""Pure: `SYNCCORE_SCHEDULE` and durations parsed, and when a scheduled sync is due.

Two kinds of schedule. An interval (`every 6h`) is due when the last sync started by anyone
is at least one interval old, so its due time is `last start + interval`. A five-field cron
expression (`0 6 * * *`, UTC unless `SYNCCORE_TIMEZONE` names a zone) is due at each cron
time. Either way a due time is a single instant every worker computes alike, which is what
lets the database record it once and run it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from .errors import ConfigurationError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # the due time of a catalog never synced


def parse_duration(text: str, name: str) -> float:
    """`45s`, `30m`, `6h`, `2d` or plain seconds -> seconds; `name` is the setting, for errors."""
    match = _DURATION.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise ConfigurationError(
            f"{name} must be a duration like 45s, 30m, 6h or 2d, got {str(text)[:40]!r}."
        )
    return float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]


def format_duration(seconds: float) -> str:
    """The shortest exact form: 45s, 30m, 6h, 2d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class Schedule:
    """An interval in seconds, or a cron expression in a time zone."""

    text: str  # as configured, shown back to people
    interval: float | None = None
    cron: str | None = None
    timezone: str = "UTC"

    def describe(self) -> str:
        if self.interval is not None:
            return f"every {format_duration(self.interval)}"
        return f"cron {self.cron} ({self.timezone})"

    def stored(self) -> str:
        """How workers record it in the database (`parse_stored` reads it back)."""
        return self.text if self.interval is not None else f"{self.text} @ {self.timezone}"

    def typical_gap(self, now: datetime) -> float:
        """Seconds between runs: the interval, or the gap between the next two cron times."""
        if self.interval is not None:
            return self.interval
        first = self.next_cron_after(now)
        return (self.next_cron_after(first) - first).total_seconds()

    def next_cron_after(self, moment: datetime) -> datetime:
        assert self.cron is not None
        zone = ZoneInfo(self.timezone)
        return croniter(self.cron, moment.astimezone(zone)).get_next(datetime).astimezone(UTC)

    def last_cron_at_or_before(self, moment: datetime) -> datetime:
        assert self.cron is not None
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone) + timedelta(microseconds=1)
        return croniter(self.cron, local).get_prev(datetime).astimezone(UTC)


def parse_schedule(text: str, timezone: str | None = None) -> Schedule:
    """`every 30m`, `every 6h`, `every 45s`, or a five-field cron expression."""
    raw = " ".join(str(text).split())
    zone = (timezone or "UTC").strip() or "UTC"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"SYNCCORE_TIMEZONE must name a time zone like Europe/Berlin, got {zone[:40]!r}."
        ) from None
    if raw.lower().startswith("every "):
        seconds = parse_duration(raw[6:], "SYNCCORE_SCHEDULE")
        return Schedule(text=raw, interval=seconds, timezone=zone)
    if len(raw.split(" ")) != 5 or not croniter.is_valid(raw):
        raise ConfigurationError(
            "SYNCCORE_SCHEDULE must be 'every <duration>' (every 30m, every 6h, every 45s) or a "
            f"five-field cron expression like '0 6 * * *', got {raw[:60]!r}."
        )
    return Schedule(text=raw, cron=raw, timezone=zone)


def parse_stored(text: str) -> Schedule:
    schedule_text, _, zone = text.partition(" @ ")
    return parse_schedule(schedule_text, zone or None)


def due_time(
    schedule: Schedule, last_started: datetime | None, now: datetime, since: datetime
) -> datetime | None:
    """The due time to act on now, or None when nothing is due.

    Interval: the latest of `last_started + k * interval` (k >= 1) that has passed, so a due
    time skipped because another sync was active is followed by the next tick, not by
    nothing; NEVER for a catalog never synced. Cron: the latest cron time at or before now,
    if it is not before `since` (when the worker started): a worker does not make up for
    cron times it was not running for. Missed ticks are never run in a burst: only the latest.
    """
    if schedule.interval is not None:
        if last_started is None:
            return NEVER
        elapsed = (now - last_started).total_seconds()
        ticks = int(elapsed // schedule.interval)
        if ticks < 1:
            return None
        return last_started + timedelta(seconds=ticks * schedule.interval)
    latest = schedule.last_cron_at_or_before(now)
    return latest if latest >= since else None


def next_run(schedule: Schedule, last_started: datetime | None, now: datetime) -> datetime:
    """When the schedule will next start a sync (now, when one is already due)."""
    if schedule.interval is not None:
        if last_started is None:
            return now
        return max(now, last_started + timedelta(seconds=schedule.interval))
    return schedule.next_cron_after(now)
