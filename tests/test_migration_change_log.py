"""Upgrading a catalog at 0004_tracker_columns to the change log (0005_change_log): every album
and every past sync kept, past syncs marked neither previews nor forced, and the first sync
after it logs its changes against the upgraded albums. On real SQLite and real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from synccore import CatalogSync, SyncStatus
from synccore.config import Settings
from synccore.db import _alembic_config, normalize_url

from .support.albums import album, write_sheet_csv


def sync_at_revision(url: str, sheet: Path, revision: str) -> None:
    """A catalog made by the release at `revision`: its schema, one sync's albums and history."""
    engine = sa.create_engine(normalize_url(url))
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.execute(
            sa.text(
                "INSERT INTO sync_operations (status, message, processed, total, created, "
                "updated, unchanged, removed, failed, announced, triggered_by, host, pid, force, "
                "cancel_requested, source, started_at, heartbeat_at, finished_at, "
                "awaiting_worker, run_by_worker) VALUES ('completed', 'ok', 1, 1, 1, 0, 0, 0, "
                "0, 0, 'old', 'h', 1, false, false, 's', '2026-01-01 10:00:00', "
                "'2026-01-01 10:00:00', '2026-01-01 10:00:05', false, false)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO sync_results (operation_id, status, message, triggered_by, source, "
                "started_at, finished_at, duration_seconds, total, created, updated, unchanged, "
                "removed, failed, announced) SELECT id, 'completed', 'ok', 'old', 's', "
                "started_at, finished_at, 5.0, 1, 1, 0, 0, 0, 0, 0 FROM sync_operations"
            )
        )
    engine.dispose()


def test_upgrade_to_the_change_log_keeps_the_history(database_url, tmp_path: Path):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(1), album(2)])
    sync_at_revision(database_url, sheet, "0004_tracker_columns")
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet)))
    (old,) = sync.history()
    assert (old.triggered_by, old.preview, old.force) == ("old", False, False)
    assert sync.last_synced_at() is not None
    assert sync.changes(old.operation_id) == []

    first = sync.run_sync("tester")  # the catalog is empty: one initial-load entry
    assert first.status is SyncStatus.COMPLETED
    assert [(c.change, c.count) for c in sync.changes(first.id)] == [("initial_load", 2)]
    write_sheet_csv(sheet, [album(1, genre="Doom, Sludge"), album(3)])
    preview = sync.run_sync("tester", preview=True)
    assert preview.status is SyncStatus.PREVIEWED
    second = sync.run_sync("tester")
    logged = {(c.change, c.title, str(c.fields)) for c in sync.changes(second.id)}
    assert logged == {
        ("updated", "Album 1", str({"genres": [["Doom"], ["Doom", "Sludge"]]})),
        ("created", "Album 3", "{}"),
        ("removed", "Album 2", "{}"),
    }
    sync.close()
