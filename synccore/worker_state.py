"""What workers keep in the database: their heartbeats and schedules, the scheduled due times
already decided, and the dashboard's syncs waiting for a worker.

Every decision several workers could race on is a single statement the database settles: an
INSERT of a due time's primary key (a second worker gets IntegrityError and does nothing), or
an UPDATE that hands a waiting sync to the one worker whose UPDATE matched it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from .db import Database
from .models import ScheduledRun, SyncOperation, SyncWorker
from .operations import ACTIVE
from .schedule import NEVER
from .status import as_utc, utcnow

FORGET_WORKERS_AFTER = timedelta(days=7)  # a dead worker's row still says "the schedule was X"
KEEP_DUE_TIMES = timedelta(days=7)


@dataclass(frozen=True)
class WorkerSeen:
    """The freshest worker row: when it last beat and the schedule it keeps."""

    heartbeat_at: datetime
    schedule: str | None
    host: str
    pid: int


def register_worker(db: Database, worker_id: str, schedule: str | None, runs_syncs: bool) -> None:
    now = utcnow()
    with db.write() as s:
        s.execute(delete(SyncWorker).where(SyncWorker.heartbeat_at < now - FORGET_WORKERS_AFTER))
        s.add(
            SyncWorker(
                id=worker_id,
                host=socket.gethostname()[:200],
                pid=os.getpid(),
                schedule=schedule,
                runs_dashboard_syncs=runs_syncs,
                started_at=now,
                heartbeat_at=db.now(),  # judged against the server's clock, as syncs' are
            )
        )


def beat_worker(db: Database, worker_id: str) -> None:
    with db.write() as s:
        s.execute(
            update(SyncWorker).where(SyncWorker.id == worker_id).values(heartbeat_at=db.now())
        )


def unregister_worker(db: Database, worker_id: str) -> None:
    with db.write() as s:
        s.execute(delete(SyncWorker).where(SyncWorker.id == worker_id))


def freshest_worker(db: Database) -> WorkerSeen | None:
    with db.session() as s:
        row = s.scalars(
            select(SyncWorker).order_by(SyncWorker.heartbeat_at.desc()).limit(1)
        ).first()
        if row is None:
            return None
        return WorkerSeen(as_utc(row.heartbeat_at), row.schedule, row.host, row.pid)


def last_started_at(db: Database) -> datetime | None:
    """When the most recent sync (not a preview) started, whoever started it."""
    with db.session() as s:
        return as_utc(
            s.scalar(
                select(func.max(SyncOperation.started_at)).where(SyncOperation.preview.is_(False))
            )
        )


def decide_due_time(db: Database, scheduled_for: datetime, worker_id: str) -> bool:
    """Record the due time; True for the one worker whose INSERT the database accepted."""
    try:
        with db.write() as s:
            s.add(
                ScheduledRun(
                    scheduled_for=scheduled_for.replace(tzinfo=None),
                    decided_at=utcnow(),
                    worker_id=worker_id,
                    operation_id=None,
                    note="",
                )
            )
        return True
    except IntegrityError:
        return False


def record_due_outcome(
    db: Database,
    scheduled_for: datetime,
    operation_id: int | None,
    note: str,
    keep: timedelta = KEEP_DUE_TIMES,
) -> None:
    """What became of a due time; due times older than `keep` (longer than any worker could
    still compute them) are forgotten, except NEVER, the first run of a never-synced catalog."""
    with db.write() as s:
        s.execute(
            update(ScheduledRun)
            .where(ScheduledRun.scheduled_for == scheduled_for.replace(tzinfo=None))
            .values(operation_id=operation_id, note=note[:500])
        )
        s.execute(
            delete(ScheduledRun).where(
                ScheduledRun.scheduled_for < utcnow() - keep,
                ScheduledRun.scheduled_for > NEVER.replace(tzinfo=None),
            )
        )


def scheduled_operation_ids(db: Database) -> list[int]:
    """The syncs the schedule started, oldest first (tests and the History label use them)."""
    with db.session() as s:
        return list(
            s.scalars(
                select(ScheduledRun.operation_id)
                .where(ScheduledRun.operation_id.is_not(None))
                .order_by(ScheduledRun.scheduled_for)
            )
        )


def take_waiting_sync(db: Database) -> int | None:
    """Hand the dashboard's waiting sync to this worker; None when there is none (or another
    worker's UPDATE took it first)."""
    with db.session() as s:
        op_id = s.scalar(
            select(SyncOperation.id).where(
                SyncOperation.active_slot == ACTIVE, SyncOperation.awaiting_worker.is_(True)
            )
        )
    if op_id is None:
        return None
    with db.write() as s:
        taken = cast(
            CursorResult,
            s.execute(
                update(SyncOperation)
                .where(
                    SyncOperation.id == op_id,
                    SyncOperation.active_slot == ACTIVE,
                    SyncOperation.awaiting_worker.is_(True),
                )
                .values(
                    awaiting_worker=False,
                    run_by_worker=True,
                    host=socket.gethostname()[:200],
                    pid=os.getpid(),
                    heartbeat_at=db.now(),  # the heartbeat clock: see Database.now
                )
            ),
        ).rowcount
    return op_id if taken else None
