"""The SyncOperation lifecycle and the one-sync-at-a-time rule.

Exclusivity rests on the unique index over `sync_operations.active_slot`: claiming is a plain
INSERT with `active_slot = 1`, and the database refuses a second one. A `SELECT ... FOR
UPDATE` over zero rows locks nothing, so no check-then-insert could give this guarantee.
A running sync heartbeats; one whose heartbeat is older than the timeout is retired as
interrupted by whoever looks next, which frees the slot. Heartbeats are written and judged by
one clock, `Database.now` (the server's on PostgreSQL), never by comparing two hosts' clocks.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .config import Settings
from .counters import COUNTERS, RESULT_COUNTERS, SyncCounts, counters_of
from .db import Database, changed_count, rows_changed, session_now
from .errors import CancelRefused, SyncAlreadyRunning, SyncInterrupted
from .models import SyncOperation, SyncResult, SyncRowError, SyncStage, SyncStatus

log = logging.getLogger(__name__)

ACTIVE = 1
ACTIVE_STATUSES = (SyncStatus.PENDING.value, SyncStatus.RUNNING.value)


def default_user() -> str:
    """Who triggered a sync from the command line: the OS user."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database entry (containers)
        return "unknown user"


def claim(
    db: Database,
    settings: Settings,
    triggered_by: str,
    *,
    force: bool = False,
    trigger: str | None = None,
    awaiting_worker: bool = False,
) -> int:
    """Insert a pending operation holding the active slot; return its id.

    Raises `SyncAlreadyRunning` naming who holds the slot. A stale holder is retired first.
    `trigger` records how it was started; `awaiting_worker` leaves it for `synccore worker`.
    """
    recover_stale(db, settings.heartbeat_timeout)
    now = db.now()
    op = SyncOperation(
        active_slot=ACTIVE,
        status=SyncStatus.PENDING.value,
        stage=None,
        message="Waiting for a worker to start this sync..."
        if awaiting_worker
        else "Starting sync...",
        triggered_by=(triggered_by or "unknown user")[:200],
        host=socket.gethostname()[:200],
        pid=os.getpid(),
        force=force,
        cancel_requested=False,
        source=settings.describe_sheet()[:500],
        started_at=now,
        heartbeat_at=now,
        **dict.fromkeys(COUNTERS, 0),
        trigger=trigger,
        awaiting_worker=awaiting_worker,
        run_by_worker=False,
    )
    try:
        with db.write() as s:
            s.add(op)
            s.flush()
            return op.id
    except IntegrityError:
        holder = active_operation(db)
        if holder is None:  # it finished between our insert and this read
            return claim(
                db,
                settings,
                triggered_by,
                force=force,
                trigger=trigger,
                awaiting_worker=awaiting_worker,
            )
        raise SyncAlreadyRunning(holder.id, holder.triggered_by, holder.started_at) from None


def active_operation(db: Database) -> SyncOperation | None:
    with db.session() as s:
        return s.scalars(select(SyncOperation).where(SyncOperation.active_slot == ACTIVE)).first()


def recover_stale(db: Database, heartbeat_timeout: float) -> int:
    """Mark active operations whose heartbeat is older than the timeout as interrupted."""
    cutoff = db.now() - timedelta(seconds=heartbeat_timeout)
    with db.session() as s:  # a cheap read first, so the 2 s rerun never takes a write lock
        stale = s.execute(
            select(SyncOperation.id, SyncOperation.awaiting_worker).where(
                SyncOperation.active_slot == ACTIVE, SyncOperation.heartbeat_at < cutoff
            )
        ).all()
    for op_id, awaiting_worker in stale:
        if awaiting_worker:
            message, error = NO_WORKER_MESSAGE, NO_WORKER_ERROR
        else:
            message, error = (
                "Sync interrupted: the process running it stopped responding.",
                "The sync stopped sending heartbeats (its process was probably killed or its "
                "host restarted). Albums written before that are complete; run the sync again "
                "to bring the catalog fully up to date.",
            )
        if finish(
            db, op_id, SyncStatus.INTERRUPTED, message, error=error, only_if_stale_before=cutoff
        ):
            _end_sessions(db, op_id)
    return len(stale)


def _end_sessions(db: Database, op_id: int) -> None:
    """A retired sync frozen inside a transaction keeps its locks until its session ends: end
    it now, so the next sync does not wait on them (the database's write timeouts bound that
    wait anyway, e.g. where this role may not end other sessions)."""
    try:
        ended = db.end_sessions_of(op_id)
    except Exception:  # noqa: BLE001 - the bounded lock waits remain the fallback
        log.warning("could not end the sessions of retired sync %s", op_id, exc_info=True)
        return
    if ended:
        log.warning("ended %s database session(s) of retired sync %s", ended, op_id)


NO_WORKER_MESSAGE = "No worker picked up this sync: start `synccore worker`."
NO_WORKER_ERROR = (
    "SYNCCORE_RUN_SYNCS_IN=worker leaves the dashboard's syncs to `synccore worker`, and no "
    "worker took this one within the heartbeat timeout. Start a worker (see the README) or "
    "unset SYNCCORE_RUN_SYNCS_IN to run syncs in the dashboard."
)


def heartbeat(db: Database, op_id: int) -> bool:
    """Refresh the heartbeat; return True when the sync must stop (see `_must_stop`)."""
    with db.write() as s:
        changed = rows_changed(
            s,
            update(SyncOperation)
            .where(SyncOperation.id == op_id, SyncOperation.active_slot == ACTIVE)
            .values(heartbeat_at=db.now()),
        )
        return _must_stop(s, op_id, changed)


def _must_stop(s, op_id: int, rowcount: int) -> bool:
    """A cancel was requested, or the operation no longer holds the active slot: it was
    retired as stale while this process was frozen or cut off, and another sync may be
    running now, so this one must not write another batch."""
    if rowcount == 0:
        log.warning("sync %s no longer holds the active slot (retired as stale); stopping", op_id)
        return True
    return bool(s.scalar(select(SyncOperation.cancel_requested).where(SyncOperation.id == op_id)))


def fence(s, op_id: int, *, removed: int | None = None) -> None:
    """At the end of a write transaction: refresh the heartbeat and lock the operation's row,
    or raise `SyncInterrupted` (rolling the batch back) if the operation no longer holds the
    active slot. `removed` records, in the same transaction, how many albums it marked removed.

    Every batch ends with this, so a sync retired as stale (its process was frozen or cut off
    from the database, and another sync may have started) cannot commit one more batch when
    it wakes; and from here to the commit, nobody can retire it.
    """
    values: dict = {"heartbeat_at": session_now(s)}
    if removed is not None:
        values["removed"] = removed
    held = rows_changed(
        s,
        update(SyncOperation)
        .where(SyncOperation.id == op_id, SyncOperation.active_slot == ACTIVE)
        .values(**values),
    )
    if not held:
        log.warning("sync %s no longer holds the active slot (retired as stale); stopping", op_id)
        raise SyncInterrupted(
            "Sync stopped: it had been marked interrupted after its process stopped responding."
        )


# What progress writes: every counter but `removed`, which the removal transaction records
# (see `fence`), so the stored count is always the number committed.
LIVE_COUNTERS = tuple(name for name in COUNTERS if name != "removed")


@dataclass(frozen=True)
class Progress(SyncCounts):
    """A snapshot of progress the engine writes; counters are totals so far.

    `removed` is for display only: the operation's stored count is written by the transaction
    that marks the albums removed (see `fence`), so it is always the number committed.
    """

    stage: SyncStage
    message: str


def write_progress(db: Database, op_id: int, p: Progress) -> bool:
    """Store progress (and a heartbeat); return True when the sync must stop."""
    with db.write() as s:
        result = s.execute(
            update(SyncOperation)
            .where(SyncOperation.id == op_id, SyncOperation.active_slot == ACTIVE)
            .values(
                status=SyncStatus.RUNNING.value,
                stage=p.stage.value,
                message=p.message[:500],
                **counters_of(p, LIVE_COUNTERS),
                heartbeat_at=db.now(),
            )
        )
        return _must_stop(s, op_id, changed_count(result))


def request_cancel(db: Database, requested_by: str) -> bool:
    """Flag the active sync for cancellation; it stops at its next batch boundary.

    Returns False when no sync is active. Raises `CancelRefused` once the sync is finalizing:
    it then marks removed albums in one transaction and records the result, which a cancel
    would not stop. The sync reads the flag in the same transaction that moves it to
    finalizing, so a cancel accepted before that is always honoured, never dropped.
    """
    finalizing = SyncStage.FINALIZING.value
    active = SyncOperation.active_slot == ACTIVE
    with db.session() as s:  # a read first: on SQLite, finalizing holds the write lock
        current = s.execute(
            select(SyncOperation.stage, SyncOperation.cancel_requested).where(active)
        ).first()
    if current is None:
        return False
    if current.stage != finalizing or current.cancel_requested:
        with db.write() as s:
            accepted = rows_changed(
                s,
                update(SyncOperation)
                .where(
                    active,
                    or_(
                        SyncOperation.stage.is_(None),
                        SyncOperation.stage != finalizing,
                        SyncOperation.cancel_requested.is_(True),
                    ),
                )
                .values(cancel_requested=True, cancelled_by=(requested_by or "unknown user")[:200]),
            )
            if accepted:
                return True
            if s.scalar(select(SyncOperation.stage).where(active)) != finalizing:
                return False  # it ended meanwhile
    raise CancelRefused(
        "The sync is finalizing (marking removed albums and recording the result) and "
        "can no longer be cancelled; it ends in a moment."
    )


def finish(
    db: Database,
    op_id: int,
    status: SyncStatus,
    message: str,
    *,
    error: str | None = None,
    progress: Progress | None = None,
    row_errors: list | None = None,
    only_if_stale_before=None,
    guard_stopped: bool = False,
    report: dict | None = None,
) -> bool:
    """End an operation: free the slot, record the result and row errors in one transaction,
    then tell the `FINISH_HOOKS` (notifications) what ended.

    Returns False when the operation had already ended (e.g. retired as stale meanwhile).
    `removed` is kept as the removal transaction recorded it. `only_if_stale_before` is a
    time (or SQL time expression) the heartbeat must be older than.
    """
    values: dict = dict(active_slot=None, status=status.value, message=message[:500], error=error)
    if report is not None:  # announced, warnings, worksheets (sync.FetchResult.report)
        values.update(report)
    if progress is not None:
        values.update(counters_of(progress, LIVE_COUNTERS))
    with db.write() as s:
        values["finished_at"] = now = db.server_time(s)
        where = [SyncOperation.id == op_id, SyncOperation.active_slot == ACTIVE]
        if only_if_stale_before is not None:
            where.append(SyncOperation.heartbeat_at < only_if_stale_before)
            # A row locked by its own sync (committing a batch, or frozen while doing so) is
            # not provably dead: skip it rather than make the caller (a 2 s rerun) wait.
            # SQLite has no row locks and ignores this; its writers queue on the busy timeout.
            if (
                s.scalar(select(SyncOperation.id).where(*where).with_for_update(skip_locked=True))
                is None
            ):
                return False
        if rows_changed(s, update(SyncOperation).where(*where).values(**values)) == 0:
            return False
        op = s.get_one(SyncOperation, op_id)
        s.add(
            SyncResult(
                operation_id=op_id,
                status=status.value,
                message=message[:500],
                error=error,
                triggered_by=op.triggered_by,
                source=op.source,
                started_at=op.started_at,
                finished_at=now,
                duration_seconds=max(0.0, (now - op.started_at).total_seconds()),
                **counters_of(op, RESULT_COUNTERS),
                announced=op.announced,
                warnings=op.warnings,
                worksheets=op.worksheets,
            )
        )
        if row_errors:
            s.execute(
                insert(cast(Table, SyncRowError.__table__)),
                [
                    {
                        "operation_id": op_id,
                        "sheet_row": e.row_number,
                        "worksheet": getattr(e, "worksheet", None),
                        "reason": e.reason[:500],
                        "raw_values": list(e.values),
                    }
                    for e in row_errors
                ],
            )
    for hook in FINISH_HOOKS:
        try:
            hook(db, op_id, guard_stopped)
        except Exception:  # noqa: BLE001 - a hook never changes how the sync ended
            log.warning("after-sync hook failed for sync %s", op_id, exc_info=True)
    return True


# Called once per ended operation, by the process that ended it: (db, op_id, guard_stopped).
FINISH_HOOKS: list[Callable[[Database, int, bool], None]] = []
