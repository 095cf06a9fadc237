"""Keep the history of the most recent syncs only (`SYNCCORE_KEEP_SYNCS`).

Every sync leaves an operation row, a result row, up to `sync.MAX_STORED_ROW_ERRORS` row
errors and its change log (`changes`); without pruning they pile up forever. Pruning runs
after a sync has ended, in its own transaction, and deletes only finished operations: the
active one is never touched.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from .db import Database, rows_changed
from .models import AlbumChange, SyncOperation, SyncResult, SyncRowError, SyncStatus

SUCCEEDED = (SyncStatus.COMPLETED.value, SyncStatus.COMPLETED_WITH_WARNINGS.value)


def prune_history(db: Database, keep: int) -> int:
    """Delete the history of all but the `keep` most recent finished syncs; return how many
    syncs were deleted.

    The last successful sync is kept even when older: "Last synced" and the removal guard's
    "the configured sheet changed" check read it.
    """
    with db.write() as s:
        finished = SyncOperation.active_slot.is_(None)
        cutoff = s.scalar(
            select(SyncOperation.id)
            .where(finished)
            .order_by(SyncOperation.id.desc())
            .offset(keep - 1)
            .limit(1)
        )
        if cutoff is None:
            return 0
        last_success = s.scalar(
            select(SyncResult.operation_id)
            .where(SyncResult.status.in_(SUCCEEDED))
            .order_by(SyncResult.operation_id.desc())
            .limit(1)
        )
        old = (finished, SyncOperation.id < cutoff, SyncOperation.id != (last_success or 0))
        doomed = select(SyncOperation.id).where(*old)
        # Children first, explicitly: no reliance on ON DELETE CASCADE being enabled.
        s.execute(delete(SyncRowError).where(SyncRowError.operation_id.in_(doomed)))
        s.execute(delete(AlbumChange).where(AlbumChange.operation_id.in_(doomed)))
        s.execute(delete(SyncResult).where(SyncResult.operation_id.in_(doomed)))
        return rows_changed(s, delete(SyncOperation).where(*old))
