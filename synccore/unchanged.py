"""Skip reading a sheet that has not changed: Drive's `modifiedTime`, one cheap request.

A scheduled or command-line sync (not Sync Now from the page, not `--force`, not a preview)
asks Drive when the spreadsheet last changed; when that matches what the last successful
sync recorded, it ends at once as "Already up to date" without reading a cell. Every sync
that asks records the answer (its *stamp*), so the next one can compare; a sync that did not
ask leaves none, so the one after it reads everything.

The stamp is the time plus a fingerprint of everything else that decides what a read makes
(the worksheet selection, header aliases, color legend, location mappings, the row rules'
version): a settings change or an upgrade reads everything again. When Drive refuses or
fails (credentials without the Drive metadata scope, the Drive API not enabled), the sync
reads everything as before and logs why, once per reason per process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading

from sqlalchemy import select, update

from .config import Settings
from .db import Database
from .models import SyncOperation, SyncResult
from .retention import SUCCEEDED
from .rows import _HASH_VERSION
from .sources.base import SheetSource

log = logging.getLogger(__name__)

SKIPPING_TRIGGERS = ("schedule", "cli")
_logged: set[str] = set()
_logged_lock = threading.Lock()


def rules_fingerprint(settings: Settings) -> str:
    """What, besides the sheet's cells, decides what a read makes of them."""
    facts = [
        settings.describe_sheet(),
        settings.header_aliases,
        settings.color_flags,
        settings.location_countries,
        _HASH_VERSION,
    ]
    text = json.dumps(facts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def stamp(modified_time: str, settings: Settings) -> str:
    return f"{modified_time}|{rules_fingerprint(settings)}"


def shown_time(stored: str) -> str:
    """The time part of a stamp, as a person reads it ("2026-03-03 10:15:02 UTC")."""
    text = stored.split("|", 1)[0]
    return text.replace("T", " ").split(".", 1)[0].rstrip("Z") + " UTC"


def sheet_unchanged(
    db: Database,
    settings: Settings,
    op_id: int,
    source: SheetSource,
    *,
    trigger: str | None,
    force: bool,
    preview: bool,
) -> str | None:
    """The stamp when this sync may end at once (the sheet is as the last successful sync
    found it), else None. Only a sync that may skip asks Drive (and records the answer), so a
    sync started any other way costs no extra request and leaves no stamp: the next one then
    compares with nothing and reads everything."""
    read_time = getattr(source, "modified_time", None)
    if not settings.skip_unchanged or read_time is None or preview or force:
        return None
    if trigger not in SKIPPING_TRIGGERS:
        return None
    try:
        current = stamp(read_time(), settings)
    except Exception as exc:  # noqa: BLE001 - DriveUnavailable or anything else: read all
        _log_once(str(exc))
        return None
    with db.write(sync_id=op_id) as s:
        s.execute(
            update(SyncOperation).where(SyncOperation.id == op_id).values(sheet_modified=current)
        )
    with db.session() as s:
        last = s.execute(
            select(SyncResult.sheet_modified)
            .where(SyncResult.status.in_(SUCCEEDED), SyncResult.preview.is_(False))
            .order_by(SyncResult.operation_id.desc())
            .limit(1)
        ).scalar()
    return current if last == current else None


def _log_once(reason: str) -> None:
    with _logged_lock:
        if reason in _logged:
            return
        _logged.add(reason)
    log.warning(
        "Could not ask Google Drive when the sheet last changed (%s); reading the whole sheet. "
        "Give the credentials the Drive metadata scope (and enable the Drive API) to skip "
        "unchanged sheets, or set SYNCCORE_SKIP_UNCHANGED=0 to stop asking.",
        reason,
    )
