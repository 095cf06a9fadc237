"""Plain, immutable views of sync bookkeeping that callers (dashboard, CLI) can hold safely.

Times are timezone-aware UTC. Views are built from rows once and carry no session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, overload

from .counters import RESULT_COUNTERS, ResultCounts, SyncCounts, counters_of
from .models import SyncOperation, SyncResult, SyncRowError, SyncStage, SyncStatus


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """Stored times are naive UTC (SQLite keeps no zone); hand them out zone-aware."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Naive UTC for storage."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class OperationStatus(SyncCounts):
    """One sync operation's live state: what the 2 s rerun renders."""

    id: int
    status: SyncStatus
    stage: str | None
    message: str
    triggered_by: str
    source: str
    error: str | None
    cancel_requested: bool
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    announced: int = 0  # announced albums without a title yet: skipped, not failed
    warnings: tuple[str, ...] = ()  # columns a tab lacks, tabs skipped
    worksheets: tuple[dict[str, Any], ...] = ()  # per tab: name, rows_read, albums, ...

    @property
    def is_active(self) -> bool:
        return self.status.is_active

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] for a progress bar."""
        if not self.is_active:
            return 1.0 if self.status.succeeded else 0.0
        if self.total <= 0:
            return 0.0
        return max(0.0, min(1.0, self.processed / self.total))

    @property
    def cancel_wait(self) -> str:
        """What a sync asked to stop is still doing before it can: a cancel is honoured only
        between requests and batches, so the reader learns why it has not stopped yet."""
        if self.stage == SyncStage.FINALIZING.value:
            return (
                "It is finalizing (marking removed albums, recording the result) and ends "
                "in a moment."
            )
        if self.stage == SyncStage.PROCESSING.value:
            return (
                "It is writing a batch of albums and stops once that batch is committed; "
                "albums already written stay."
            )
        if self.stage == SyncStage.FETCHING.value:
            return (
                "It is reading the sheet and stops within about a second, abandoning the "
                "request or wait in flight; nothing has been written yet."
            )
        return "It has not started reading the sheet yet and stops before it does."

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        for name in ("started_at", "heartbeat_at", "finished_at"):
            data[name] = data[name].isoformat() if data[name] else None
        data["is_active"] = self.is_active
        return data

    @classmethod
    def from_row(cls, op: SyncOperation) -> OperationStatus:
        return cls(
            id=op.id,
            stage=op.stage,
            **counters_of(op),
            **_outcome_fields(op),
            cancel_requested=op.cancel_requested,
            heartbeat_at=as_utc(op.heartbeat_at),
        )


@dataclass(frozen=True)
class SyncSummary(ResultCounts):
    """A finished sync, as History shows it."""

    operation_id: int
    status: SyncStatus
    message: str
    error: str | None
    triggered_by: str
    source: str
    started_at: datetime
    finished_at: datetime
    duration_seconds: float
    announced: int = 0
    warnings: tuple[str, ...] = ()
    worksheets: tuple[dict[str, Any], ...] = ()
    trigger: str | None = None  # "dashboard", "cli", "schedule"; None: the API, or unknown
    run_by_worker: bool = False

    @property
    def started_via(self) -> str:
        """Who or what started it, for History: person, CLI, schedule, worker."""
        label = TRIGGER_LABELS.get(self.trigger or "", "API")
        return f"{label}, run by a worker" if self.run_by_worker else label

    @property
    def albums_per_second(self) -> float:
        return self.total / self.duration_seconds if self.duration_seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat()
        data["albums_per_second"] = round(self.albums_per_second, 1)
        data["started_via"] = self.started_via
        return data

    @classmethod
    def from_row(
        cls, r: SyncResult, trigger: str | None = None, run_by_worker: bool = False
    ) -> SyncSummary:
        return cls(
            operation_id=r.operation_id,
            duration_seconds=r.duration_seconds,
            **counters_of(r, RESULT_COUNTERS),
            **_outcome_fields(r),
            trigger=trigger,
            run_by_worker=bool(run_by_worker),
        )


def _outcome_fields(row: SyncOperation | SyncResult) -> dict[str, Any]:
    """What an operation and its result both record, as their views carry it."""
    return dict(
        status=SyncStatus(row.status),
        message=row.message,
        error=row.error,
        triggered_by=row.triggered_by,
        source=row.source,
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        announced=row.announced or 0,
        warnings=tuple(row.warnings or ()),
        worksheets=tuple(row.worksheets or ()),
    )


TRIGGER_LABELS = {"dashboard": "Person (dashboard)", "cli": "Command line", "schedule": "Schedule"}


@dataclass(frozen=True)
class RowErrorRecord:
    """A sheet row a sync could not take: its 1-based row number, why, and its raw values."""

    sheet_row: int
    reason: str
    values: tuple[str, ...]
    worksheet: str | None = None  # the tab the row is in

    @classmethod
    def from_row(cls, r: SyncRowError) -> RowErrorRecord:
        return cls(r.sheet_row, r.reason, tuple(str(v) for v in (r.raw_values or ())), r.worksheet)

    def to_json(self) -> dict[str, Any]:
        return {
            "sheet_row": self.sheet_row,
            "worksheet": self.worksheet,
            "reason": self.reason,
            "values": list(self.values),
        }
