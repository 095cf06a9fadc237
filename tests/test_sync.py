"""The engine end to end over a CSV sheet, on real SQLite and real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from synccore import CatalogSync, SyncStage, SyncStatus
from synccore.config import Settings
from synccore.models import Album, AlbumGenre, Genre, SyncOperation, SyncResult

from .support.albums import album, write_sheet_csv


def make_sync(database_url: str, sheet: Path, **overrides) -> CatalogSync:
    return CatalogSync(Settings(database_url=database_url, sheet=str(sheet), **overrides))


def albums_in_db(sync: CatalogSync) -> dict[str, tuple]:
    with sync.db.session() as s:
        return {
            a.key: (a.title, a.updated_at, a.removed_at, a.last_sync_id)
            for a in s.scalars(select(Album))
        }


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    return tmp_path / "sheet.csv"


def test_first_sync_creates_every_album_and_its_lookups(database_url, sheet):
    write_sheet_csv(sheet, [album(n) for n in range(10)])
    sync = make_sync(database_url, sheet)
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.COMPLETED
    assert (status.created, status.updated, status.unchanged, status.failed) == (10, 0, 0, 0)
    assert status.message == "Sync complete! 10 albums synced (10 new, 0 changed, 0 unchanged)."
    assert status.triggered_by == "tester"
    with sync.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Album)) == 10
        assert s.scalar(select(func.count()).select_from(Genre)) == 3
        assert s.scalar(select(Album.country).where(Album.title == "Album 1")) == "Finland"
    assert sync.last_synced_at() is not None


def test_second_sync_of_same_sheet_rewrites_nothing(database_url, sheet):
    write_sheet_csv(sheet, [album(n) for n in range(25)])
    sync = make_sync(database_url, sheet)
    sync.run_sync("tester")
    before = albums_in_db(sync)
    status = sync.run_sync("tester")
    assert (status.created, status.updated, status.unchanged) == (0, 0, 25)
    assert status.message.startswith("Sync complete! Everything was already up to date")
    assert albums_in_db(sync) == before  # same updated_at and last_sync_id: not rewritten


def test_only_edited_rows_are_written(database_url, sheet):
    rows = [album(n) for n in range(20)]
    write_sheet_csv(sheet, rows)
    sync = make_sync(database_url, sheet)
    first = sync.run_sync("tester")
    rows[3] = album(3, genre="Shoegaze")
    write_sheet_csv(sheet, rows)
    second = sync.run_sync("tester")
    assert (second.created, second.updated, second.unchanged) == (0, 1, 19)
    changed = {k: v for k, v in albums_in_db(sync).items() if v[3] == second.id}
    assert list(changed) == ["name:artist 3\x1falbum 3"]
    assert first.id != second.id


def test_bad_rows_are_reported_with_row_numbers_and_the_rest_syncs(database_url, sheet):
    rows = [album(n) for n in range(5)] + [album(5, artist="")] + [album(6, album="  ")]
    write_sheet_csv(sheet, rows)
    sync = make_sync(database_url, sheet)
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.COMPLETED_WITH_WARNINGS
    assert status.message == (
        "Sync completed with warnings: 5 albums synced (5 new, 0 changed, 0 unchanged); "
        "2 rows could not be used."
    )
    errors = sync.row_errors(status.id)
    assert [e.sheet_row for e in errors] == [7, 8]  # header is row 1
    assert "artist" in errors[0].reason.lower() and "album" in errors[1].reason.lower()
    assert "Album 5" in errors[0].values


def test_duplicate_keys_last_row_wins_and_earlier_is_reported(database_url, sheet):
    rows = [album(1, genre="Doom"), album(2), album(1, genre="Sludge")]
    write_sheet_csv(sheet, rows)
    sync = make_sync(database_url, sheet)
    status = sync.run_sync("tester")
    assert status.failed == 1
    assert status.message == (
        "Sync completed with warnings: 2 albums synced (2 new, 0 changed, 0 unchanged); "
        "1 row could not be used, 1 of them duplicate resolved to the later row."
    )
    [error] = sync.row_errors(status.id)
    assert error.sheet_row == 2 and "Duplicate of row 4" in error.reason
    assert error.values == tuple(album(1, genre="Doom"))  # the losing row as the sheet had it
    with sync.db.session() as s:
        genre = s.scalar(
            select(Genre.name)
            .join(AlbumGenre, AlbumGenre.genre_id == Genre.id)
            .join(Album, Album.id == AlbumGenre.album_id)
            .where(Album.key == "name:artist 1\x1falbum 1")
        )
        assert s.scalar(select(func.count()).select_from(Album)) == 2
    assert genre == "Sludge"
    assert sync.albums().total == 2


def test_albums_that_leave_the_sheet_are_marked_removed_and_come_back(database_url, sheet):
    rows = [album(n) for n in range(10)]
    write_sheet_csv(sheet, rows)
    sync = make_sync(database_url, sheet)
    sync.run_sync("tester")
    write_sheet_csv(sheet, rows[:8])
    status = sync.run_sync("tester")
    assert status.removed == 2 and status.status is SyncStatus.COMPLETED
    assert sync.albums().total == 8
    write_sheet_csv(sheet, rows)
    status = sync.run_sync("tester")
    assert status.updated == 2 and sync.albums().total == 10


def test_truncated_sheet_trips_the_removal_guard_and_changes_nothing(database_url, sheet):
    rows = [album(n) for n in range(10)]
    write_sheet_csv(sheet, rows)
    sync = make_sync(database_url, sheet)
    sync.run_sync("tester")
    before = albums_in_db(sync)
    write_sheet_csv(sheet, [album(0, genre="Changed")] + rows[1:4])
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.FAILED
    assert "would remove 6 of 10 albums (60%)" in status.error
    assert "--force" in status.error
    assert albums_in_db(sync) == before
    forced = sync.run_sync("tester", force=True)
    assert forced.removed == 6 and forced.updated == 1


def test_empty_sheet_refuses_to_wipe_the_catalog(database_url, sheet):
    write_sheet_csv(sheet, [album(n) for n in range(3)])
    sync = make_sync(database_url, sheet)
    sync.run_sync("tester")
    write_sheet_csv(sheet, [])
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.FAILED
    assert "returned no albums" in status.error and "remove all 3 albums" in status.error
    assert sync.albums().total == 3


def test_unreadable_sheet_fails_with_the_cause_and_leaves_the_catalog(database_url, sheet):
    write_sheet_csv(sheet, [album(n) for n in range(3)])
    sync = make_sync(database_url, sheet)
    sync.run_sync("tester")
    sheet.unlink()
    status = sync.run_sync("tester")
    assert status.status is SyncStatus.FAILED
    assert "does not exist" in status.error
    assert sync.albums().total == 3
    assert sync.current_status().id == status.id and not status.is_active


def test_cancel_is_honoured_between_batches(database_url, sheet):
    write_sheet_csv(sheet, [album(n) for n in range(50)])
    sync = make_sync(database_url, sheet, batch_size=10, progress_interval=0)
    seen = []

    def cancel_midway(progress):
        seen.append(progress.processed)
        if progress.stage is SyncStage.PROCESSING and progress.processed >= 20:
            sync.cancel_sync("canceller")

    status = sync.run_sync("tester", on_progress=cancel_midway)
    assert status.status is SyncStatus.CANCELLED
    assert "cancelled by canceller" in status.message
    assert 20 <= sync.albums().total < 50
    assert sync.albums().total % 10 == 0  # whole batches only
    with sync.db.session() as s:
        assert s.scalar(select(SyncResult.status).where(SyncResult.operation_id == status.id)) == (
            "cancelled"
        )


def test_progress_is_written_throttled_not_per_album(database_url, sheet):
    write_sheet_csv(sheet, [album(n) for n in range(400)])
    sync = make_sync(database_url, sheet, batch_size=5, progress_interval=3600)
    calls = []
    sync.run_sync("tester", on_progress=calls.append)
    # 80 batches, but with a long interval only stage changes and forced messages are written
    assert len(calls) <= 5
    assert [c.stage.value for c in calls][:2] == ["fetching", "processing"]


def test_operation_row_is_history_and_slot_is_freed(database_url, sheet):
    write_sheet_csv(sheet, [album(1)])
    sync = make_sync(database_url, sheet)
    sync.run_sync("tester")
    sync.run_sync("tester")
    with sync.db.session() as s:
        assert s.scalar(select(func.count()).where(SyncOperation.active_slot.is_not(None))) == 0
    assert [h.status for h in sync.history()] == [SyncStatus.COMPLETED, SyncStatus.COMPLETED]
