"""Pure: the catalog's health from plain facts, for `synccore check`, the page and alerts.

Codes follow monitoring conventions, and when several apply the highest wins:
0 healthy; 1 the last sync failed or was interrupted; 2 the catalog is stale or was never
synced; 3 a sync is active but its heartbeat is stale, or a schedule is set and no worker runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .schedule import Schedule, format_duration

HEALTHY, LAST_FAILED, STALE, STUCK = 0, 1, 2, 3
FAILED_STATUSES = ("failed", "interrupted")


@dataclass(frozen=True)
class LastOutcome:
    operation_id: int
    status: str
    message: str
    triggered_by: str
    finished_at: datetime


@dataclass(frozen=True)
class HealthFacts:
    now: datetime
    heartbeat_timeout: float
    last_success_at: datetime | None = None
    last_outcome: LastOutcome | None = None
    active_id: int | None = None
    active_heartbeat_at: datetime | None = None
    schedule: Schedule | None = None
    stale_after: float | None = None  # seconds; None: staleness is off
    worker_seen_at: datetime | None = None  # the freshest worker heartbeat
    next_run: datetime | None = None

    @property
    def worker_running(self) -> bool:
        return self.worker_seen_at is not None and (
            age(self.now, self.worker_seen_at) <= self.heartbeat_timeout
        )

    @property
    def is_stale(self) -> bool:
        """Older than the staleness limit. Never synced is reported apart, as such."""
        if self.stale_after is None or self.last_success_at is None:
            return False
        return age(self.now, self.last_success_at) > self.stale_after


@dataclass(frozen=True)
class Health:
    code: int
    summary: str  # one line
    facts: HealthFacts

    def to_json(self) -> dict[str, Any]:
        f = self.facts

        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        outcome = f.last_outcome
        return {
            "code": self.code,
            "summary": self.summary,
            "last_success_at": iso(f.last_success_at),
            "age_seconds": round(age(f.now, f.last_success_at), 1) if f.last_success_at else None,
            "stale_after_seconds": f.stale_after,
            "stale": f.is_stale,
            "last_outcome": None
            if outcome is None
            else {
                "operation_id": outcome.operation_id,
                "status": outcome.status,
                "message": outcome.message,
                "triggered_by": outcome.triggered_by,
                "finished_at": iso(outcome.finished_at),
            },
            "active_operation_id": f.active_id,
            "active_heartbeat_at": iso(f.active_heartbeat_at),
            "schedule": f.schedule.describe() if f.schedule else None,
            "next_run": iso(f.next_run),
            "worker_seen_at": iso(f.worker_seen_at),
            "worker_running": f.worker_running,
        }


def age(now: datetime, then: datetime) -> float:
    return max(0.0, (now - then).total_seconds())


def human_age(seconds: float) -> str:
    """`45 s`, `12 min`, `3 h`, `2 days`: rounded down, for one-line messages."""
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 2 * 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} days"


def assess(f: HealthFacts) -> Health:
    """Every problem that applies, in one line; the code of the worst."""
    problems: list[tuple[int, str]] = []
    if f.active_id is not None and f.active_heartbeat_at is not None:
        beat = age(f.now, f.active_heartbeat_at)
        if beat > f.heartbeat_timeout:
            problems.append(
                (STUCK, f"sync #{f.active_id} is active but its heartbeat is {human_age(beat)} old")
            )
    if f.schedule is not None and not f.worker_running:
        problems.append((STUCK, f"no worker is running for the schedule ({f.schedule.describe()})"))
    if f.last_success_at is None:
        problems.append((STALE, "the catalog was never synced successfully"))
    elif f.is_stale:
        assert f.stale_after is not None
        problems.append(
            (
                STALE,
                f"the catalog is stale: last successful sync "
                f"{human_age(age(f.now, f.last_success_at))} ago "
                f"(limit {format_duration(f.stale_after)})",
            )
        )
    if f.last_outcome is not None and f.last_outcome.status in FAILED_STATUSES:
        problems.append(
            (
                LAST_FAILED,
                f"the last sync (#{f.last_outcome.operation_id}) {f.last_outcome.status}: "
                f"{f.last_outcome.message}",
            )
        )
    if not problems:
        assert f.last_success_at is not None
        return Health(
            HEALTHY,
            f"OK: last successful sync {human_age(age(f.now, f.last_success_at))} ago",
            f,
        )
    code = max(c for c, _ in problems)
    label = {LAST_FAILED: "FAILED", STALE: "STALE", STUCK: "STUCK"}[code]
    ordered = sorted(problems, key=lambda p: -p[0])
    return Health(code, f"{label}: " + "; ".join(text for _, text in ordered), f)


def stale_limit(configured: float | None, schedule: Schedule | None, now: datetime) -> float | None:
    """SYNCCORE_STALE_AFTER, else twice the schedule's gap, else off."""
    if configured is not None:
        return configured
    if schedule is not None:
        return 2 * schedule.typical_gap(now)
    return None
