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

from . import operations
from .catalog import AlbumFilter, AlbumPage, CatalogFacets, catalog_facets, query_albums
from .config import Settings, load_settings
from .db import Database
from .models import SyncOperation, SyncResult, SyncRowError, SyncStatus
from .operations import Progress
from .progress import SHUTDOWN_ERROR, SHUTDOWN_MESSAGE, shutdown_requested
from .status import OperationStatus, RowErrorRecord, SyncSummary, as_utc

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


class CatalogSync:
    """Sync the catalog from the configured sheet and read it back."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or load_settings()
        # a write waits on a lock, or idles in a transaction, no longer than a sync may go
        # without a heartbeat (PostgreSQL): see `Database`
        self.db = Database(
            self.settings.database_url, write_timeout=self.settings.heartbeat_timeout
        )

    # -- running ---------------------------------------------------------------------------

    def start_sync(
        self, triggered_by: str, *, force: bool = False, on_progress: ProgressCallback | None = None
    ) -> int:
        """Claim the active slot and run the sync in a daemon thread; return the operation id.

        Raises `SyncAlreadyRunning` (and starts nothing) when another sync is active anywhere.
        """
        from .sync import execute_operation

        op_id = operations.claim(self.db, self.settings, triggered_by, force=force)

        def run() -> None:
            try:
                execute_operation(self.db, self.settings, op_id, on_progress=on_progress)
            finally:
                _sync_threads.pop(threading.current_thread(), None)

        thread = threading.Thread(target=run, name=f"synccore-sync-{op_id}", daemon=True)
        _sync_threads[thread] = (self.db, op_id)
        thread.start()
        return op_id

    def run_sync(
        self,
        triggered_by: str,
        *,
        force: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> OperationStatus:
        """Run a sync in the calling thread; return its final status (never raises for a
        failed sync: the status says why). Raises `SyncAlreadyRunning` like `start_sync`."""
        from .sync import execute_operation

        op_id = operations.claim(self.db, self.settings, triggered_by, force=force)
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
            rows = s.scalars(
                select(SyncResult).order_by(SyncResult.operation_id.desc()).limit(limit)
            )
            return [SyncSummary.from_row(r) for r in rows]

    def row_errors(self, operation_id: int, limit: int = 10_000) -> list[RowErrorRecord]:
        """The rows a sync could not take, in sheet order."""
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

    def close(self) -> None:
        self.db.dispose()
