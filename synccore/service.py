"""`CatalogSync`: the public face of synccore, one per process (the dashboard caches it).

It owns the database engine and offers everything a view needs: start, run and cancel a
sync, read its live status, the history and the catalog. Nothing here imports Streamlit.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from . import notify, operations, worker_state
from .catalog import AlbumFilter, AlbumPage, CatalogFacets, catalog_facets, query_albums
from .config import Settings, load_settings
from .db import Database
from .errors import SyncError
from .health import Health, HealthFacts, LastOutcome, assess, stale_limit
from .models import SyncOperation, SyncResult, SyncRowError, SyncStatus
from .operations import Progress
from .progress import SHUTDOWN_ERROR, SHUTDOWN_MESSAGE, shutdown_requested
from .schedule import Schedule, next_run, parse_stored
from .status import OperationStatus, RowErrorRecord, SyncSummary, as_utc
from .sync import MAX_STORED_ROW_ERRORS

ProgressCallback = Callable[[Progress], None]
log = logging.getLogger(__name__)

# This process's background syncs: thread -> (database, operation id).
_sync_threads: dict[threading.Thread, tuple[Database, int]] = {}


def stop_running_syncs(grace: float = 3.0) -> None:
    """End this process's syncs for a stop (SIGTERM, Ctrl-C, interpreter exit), marked
    interrupted at once rather than after the heartbeat timeout.

    Each sync is asked to stop at its next chunk or batch and given `grace` seconds; one still
    busy after that (e.g. waiting on a stalled Google request) is marked interrupted from here.
    It cannot write afterwards: every batch first checks that its operation holds the slot.
    """
    shutdown_requested.set()
    deadline = time.monotonic() + grace
    for thread in list(_sync_threads):
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    for thread, (db, op_id) in list(_sync_threads.items()):
        if not thread.is_alive():
            continue
        try:
            operations.finish(
                db, op_id, SyncStatus.INTERRUPTED, SHUTDOWN_MESSAGE, error=SHUTDOWN_ERROR
            )
        except Exception:  # noqa: BLE001 - the heartbeat timeout remains the fallback
            log.warning("could not mark sync %s interrupted at shutdown", op_id, exc_info=True)
        _sync_threads.pop(thread, None)  # abandoned: a daemon thread, gone at exit


atexit.register(stop_running_syncs)


def running_here(op_id: int) -> bool:
    """Whether this process's thread for the operation is still running."""
    return any(op == op_id for _, op in list(_sync_threads.values()))


def follow_until_done(
    sync: CatalogSync, op_id: int, on_tick: Callable[[], None] | None = None
) -> OperationStatus | None:
    """Wait for this process's sync to end; a stop (SIGTERM, Ctrl-C) ends it at once, marked
    interrupted. The sync runs in a thread so the stop is answered even while it waits on a
    stalled Google request. Returns its final status."""
    while (
        (status := sync.operation(op_id)) is not None and status.is_active and running_here(op_id)
    ):
        if shutdown_requested.is_set():
            stop_running_syncs()
            return sync.operation(op_id)
        if on_tick is not None:
            on_tick()
        shutdown_requested.wait(0.2)
    # The outcome is recorded; let the thread run its after-sync hooks (they only start the
    # notifications' delivery) so a process about to exit does not cut them off.
    for thread, (_, running) in list(_sync_threads.items()):
        if running == op_id:
            thread.join(timeout=10)
    return status


class CatalogSync:
    """Sync the catalog from the configured sheet and read it back."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or load_settings()
        # a write waits on a lock, or idles in a transaction, no longer than a sync may go
        # without a heartbeat (PostgreSQL): see `Database`
        self.db = Database(
            self.settings.database_url, write_timeout=self.settings.heartbeat_timeout
        )
        notify.watch(self.db, self.settings)

    # -- running ---------------------------------------------------------------------------

    def start_sync(
        self,
        triggered_by: str,
        *,
        force: bool = False,
        on_progress: ProgressCallback | None = None,
        trigger: str | None = None,
    ) -> int:
        """Claim the active slot and run the sync in a daemon thread; return the operation id.

        Raises `SyncAlreadyRunning` (and starts nothing) when another sync is active anywhere.
        A dashboard's sync (`trigger="dashboard"`) with `SYNCCORE_RUN_SYNCS_IN=worker` is left
        pending for `synccore worker` instead, so a restart of the dashboard does not stop it.
        """
        to_worker = trigger == "dashboard" and self.settings.run_syncs_in == "worker"
        op_id = operations.claim(
            self.db,
            self.settings,
            triggered_by,
            force=force,
            trigger=trigger,
            awaiting_worker=to_worker,
        )
        if not to_worker:
            self.run_claimed(op_id, on_progress=on_progress)
        return op_id

    def run_claimed(self, op_id: int, *, on_progress: ProgressCallback | None = None) -> None:
        """Run an operation this process holds in a daemon thread (a stop ends it cleanly)."""
        from .sync import execute_operation

        def run() -> None:
            try:
                execute_operation(self.db, self.settings, op_id, on_progress=on_progress)
            finally:
                _sync_threads.pop(threading.current_thread(), None)

        thread = threading.Thread(target=run, name=f"synccore-sync-{op_id}", daemon=True)
        _sync_threads[thread] = (self.db, op_id)
        thread.start()

    def run_sync(
        self,
        triggered_by: str,
        *,
        force: bool = False,
        on_progress: ProgressCallback | None = None,
        trigger: str | None = None,
    ) -> OperationStatus:
        """Run a sync in the calling thread; return its final status (never raises for a
        failed sync: the status says why). Raises `SyncAlreadyRunning` like `start_sync`."""
        from .sync import execute_operation

        op_id = operations.claim(self.db, self.settings, triggered_by, force=force, trigger=trigger)
        execute_operation(self.db, self.settings, op_id, on_progress=on_progress)
        status = self.operation(op_id)
        assert status is not None
        return status

    def cancel_sync(self, requested_by: str) -> bool:
        """Ask the active sync to stop at its next batch; False when none is active.

        Raises `CancelRefused` (its message says why) once the sync is finalizing."""
        return operations.request_cancel(self.db, requested_by)

    # -- reading status ------------------------------------------------------------------

    def current_status(self) -> OperationStatus | None:
        """The active sync, else the most recent one; None before the first sync.

        Cheap on purpose (one indexed row): the dashboard calls it on every 2 s rerun. It also
        retires a sync whose heartbeat went stale, so a dead process stops blocking.
        """
        operations.recover_stale(self.db, self.settings.heartbeat_timeout)
        with self.db.session() as s:
            op = s.scalars(
                select(SyncOperation)
                .order_by(SyncOperation.active_slot.is_(None), SyncOperation.id.desc())
                .limit(1)
            ).first()
            return OperationStatus.from_row(op) if op else None

    def newest_operation(self) -> tuple[int, bool] | None:
        """(id, is active) of the newest sync, or None before the first: one read of the
        primary key's index, cheap enough for an idle page to ask every half minute whether
        a sync started elsewhere."""
        with self.db.session() as s:
            row = s.execute(
                select(SyncOperation.id, SyncOperation.active_slot)
                .order_by(SyncOperation.id.desc())
                .limit(1)
            ).first()
        return (row.id, row.active_slot is not None) if row else None

    def operation(self, operation_id: int) -> OperationStatus | None:
        with self.db.session() as s:
            op = s.get(SyncOperation, operation_id)
            return OperationStatus.from_row(op) if op else None

    def last_synced_at(self) -> datetime | None:
        """When the last successful sync finished (UTC), or None if none has."""
        with self.db.session() as s:
            return as_utc(
                s.scalar(
                    select(func.max(SyncResult.finished_at)).where(
                        SyncResult.status.in_(
                            [SyncStatus.COMPLETED.value, SyncStatus.COMPLETED_WITH_WARNINGS.value]
                        )
                    )
                )
            )

    def history(self, limit: int = 100) -> list[SyncSummary]:
        """Finished syncs, newest first."""
        with self.db.session() as s:
            rows = s.execute(
                select(SyncResult, SyncOperation.trigger, SyncOperation.run_by_worker)
                .join(SyncOperation, SyncOperation.id == SyncResult.operation_id)
                .order_by(SyncResult.operation_id.desc())
                .limit(limit)
            )
            return [SyncSummary.from_row(r, trigger, by_worker) for r, trigger, by_worker in rows]

    def row_errors(
        self, operation_id: int, limit: int = MAX_STORED_ROW_ERRORS
    ) -> list[RowErrorRecord]:
        """The rows a sync could not take, in sheet order (by default all that were stored)."""
        with self.db.session() as s:
            rows = s.scalars(
                select(SyncRowError)
                .where(SyncRowError.operation_id == operation_id)
                .order_by(SyncRowError.sheet_row)
                .limit(limit)
            )
            return [RowErrorRecord.from_row(r) for r in rows]

    # -- reading the catalog ---------------------------------------------------------------

    def albums(
        self, filters: AlbumFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> AlbumPage:
        with self.db.session() as s:
            return query_albums(s, filters or AlbumFilter(), limit=limit, offset=offset)

    def facets(self) -> CatalogFacets:
        with self.db.session() as s:
            return catalog_facets(s)

    def catalog_version(self) -> int:
        """Changes whenever a sync finishes; views key their catalog caches on it."""
        with self.db.session() as s:
            return s.scalar(select(func.max(SyncResult.operation_id))) or 0

    # -- operations: schedule, workers, health ----------------------------------------------

    def schedule(self) -> Schedule | None:
        """The configured schedule, else the one the freshest worker recorded."""
        if self.settings.schedule is not None:
            return self.settings.schedule
        seen = worker_state.freshest_worker(self.db)
        if seen is None or not seen.schedule:
            return None
        try:
            return parse_stored(seen.schedule)
        except SyncError:  # recorded by a newer or older version: not worth failing over
            return None

    def health(self, now: datetime | None = None) -> Health:
        """The facts `synccore check`, the page and alerts judge, read without changing
        anything (a stale sync is reported, not retired)."""
        schedule = self.schedule()
        with self.db.session() as s:
            # heartbeats are judged by the clock that wrote them (the server's on PostgreSQL)
            now = now or as_utc(self.db.server_time(s))
            active = s.scalars(
                select(SyncOperation).where(SyncOperation.active_slot == operations.ACTIVE)
            ).first()
            last = s.scalars(
                select(SyncResult).order_by(SyncResult.operation_id.desc()).limit(1)
            ).first()
            outcome = (
                LastOutcome(
                    last.operation_id,
                    last.status,
                    last.message,
                    last.triggered_by,
                    as_utc(last.finished_at),
                )
                if last
                else None
            )
        seen = worker_state.freshest_worker(self.db)
        facts = HealthFacts(
            now=now,
            heartbeat_timeout=self.settings.heartbeat_timeout,
            last_success_at=self.last_synced_at(),
            last_outcome=outcome,
            active_id=active.id if active else None,
            active_heartbeat_at=as_utc(active.heartbeat_at) if active else None,
            schedule=schedule,
            stale_after=stale_limit(self.settings.stale_after, schedule, now),
            worker_seen_at=seen.heartbeat_at if seen else None,
            next_run=next_run(schedule, worker_state.last_started_at(self.db), now)
            if schedule
            else None,
        )
        return assess(facts)

    def close(self) -> None:
        self.db.dispose()
