"""CatalogSync as the dashboard uses it: a background sync, reads during a write, the schema."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from synccore import CatalogSync, SyncAlreadyRunning, SyncStatus
from synccore.config import Settings
from synccore.models import Base

from .support.albums import album, write_sheet_csv
from .support.waiting import wait_until_idle


def test_start_sync_returns_at_once_and_runs_in_a_daemon_thread(database_url, tmp_path):
    sheet = write_sheet_csv(tmp_path / "s.csv", [album(n) for n in range(300)])
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet), batch_size=10))
    op_id = sync.start_sync("alice")
    status = sync.current_status()
    assert status.id == op_id and status.triggered_by == "alice"
    thread = next(t for t in threading.enumerate() if t.name == f"synccore-sync-{op_id}")
    assert thread.daemon
    with pytest.raises(SyncAlreadyRunning, match="started by alice"):
        sync.start_sync("bob")
    wait_until_idle(sync)
    final = sync.operation(op_id)
    assert final.status is SyncStatus.COMPLETED and final.created == 300
    assert sync.last_synced_at() == final.finished_at


def test_reads_are_not_blocked_while_a_writer_holds_the_database(sqlite_url, tmp_path):
    sheet = write_sheet_csv(tmp_path / "s.csv", [album(n) for n in range(5)])
    sync = CatalogSync(Settings(database_url=sqlite_url, sheet=str(sheet)))
    sync.run_sync("tester")
    writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # what a sync's batch transaction holds
    writer.execute("UPDATE albums SET title = title || '!'")
    answers: list = []
    reader = threading.Thread(
        target=lambda: answers.extend([sync.current_status(), sync.albums().total, sync.history()])
    )
    reader.start()
    reader.join(timeout=10)
    writer.execute("ROLLBACK")
    assert not reader.is_alive(), "a reader waited for the writer"
    assert answers[1] == 5


def test_migrations_build_exactly_the_models_schema(database_url):
    sync = CatalogSync(Settings(database_url=database_url))
    with sync.db.read_engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"search": "artist 1"},
        {"genres": ("Doom",)},
        {"vocal_styles": ("Clean",)},
        {"countries": ("Japan",)},
        {"years": (2025,)},
        {"genres": ("Doom",), "countries": ("Finland",)},
    ],
)
def test_catalog_count_matches_the_filtered_albums(database_url, tmp_path, filters):
    from synccore import AlbumFilter

    sheet = write_sheet_csv(tmp_path / "s.csv", [album(n) for n in range(30)])
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet)))
    sync.run_sync("tester")
    page = sync.albums(AlbumFilter(**filters), limit=1_000)
    assert page.total == len(page.items) > 0
