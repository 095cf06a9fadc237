"""Row digests (synccore/row_digests.py): a re-sync skips parsing the rows the catalog holds
as they are, and ends with exactly the catalog a sync that parses every row makes. Over real
HTTP through gspread and the fake Sheets API, into real SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from synccore import CatalogSync, SyncStatus
from synccore import sync as engine
from synccore.catalog import AlbumFilter
from synccore.demo import REISSUE_COLOR, TrackerTab, demo_tracker
from synccore.models import Album

from .support.sheets import api_settings, serve_tracker, sheet_api
from .support.tracker_edits import GENRE_COLUMN, album_rows, copy_row, delete_row, insert_row


@pytest.fixture
def server():
    with sheet_api() as api:
        yield api


@pytest.fixture
def parses(monkeypatch) -> list[int]:
    """How many rows the engine hands to parse_row (the real one) in each sync: append 0
    before a sync, read [-1] after it."""
    calls = [0]
    real = engine.parse_row

    def counting(*args, **kwargs):
        calls[-1] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "parse_row", counting)
    return calls


def tracker() -> list[TrackerTab]:
    """2025's two tabs (every 10th Prog-rock album also in Prog-metal), with its bad rows."""
    return demo_tracker(years=(2025,), albums_per_tab=40, shared_every=10, announced=2)


def make_sync(server, url: str, **overrides) -> CatalogSync:
    return CatalogSync(api_settings(server.url, url, worksheet="*", **overrides))


def run(sync: CatalogSync, parses: list[int]):
    parses.append(0)
    status = sync.run_sync("tester")
    assert status.status in (SyncStatus.COMPLETED, SyncStatus.COMPLETED_WITH_WARNINGS), (
        status.message
    )
    return status


def catalog(sync: CatalogSync) -> dict:
    """Every album still in the sheet, as the Catalog shows it (but its id and time)."""
    page = sync.albums(AlbumFilter(), limit=100_000)
    return {
        (a.artist, a.title): {k: v for k, v in a.__dict__.items() if k not in ("id", "updated_at")}
        for a in page.items
    }


def single_tab_albums(sync: CatalogSync) -> int:
    return sum(1 for a in sync.albums(AlbumFilter(), limit=100_000).items if len(a.worksheets) == 1)


def stored(sync: CatalogSync) -> dict[str, tuple]:
    """key -> (updated_at, last_sync_id, row_digest) of every album."""
    with sync.db.session() as s:
        rows = s.execute(
            sa.select(Album.key, Album.updated_at, Album.last_sync_id, Album.row_digest)
        )
        return {key: tuple(rest) for key, *rest in rows}


def test_an_unchanged_resync_parses_no_album_row_held_as_it_is(server, database_url, parses):
    serve_tracker(server, tracker())
    sync = make_sync(server, database_url)
    first = run(sync, parses)
    again = run(sync, parses)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.total)
    assert again.failed == first.failed > 0  # the tracker's bad rows are still reported
    # Only the rows of albums in two tabs (which keep no digest) and rows that are no album
    # (bad rows, announced albums, section rows) are parsed again.
    assert parses[-2] - parses[-1] == single_tab_albums(sync) > 60
    sync.close()


def test_a_resync_of_an_edited_sheet_makes_the_catalog_a_full_parse_makes(
    server, database_url, tmp_path: Path, parses
):
    tabs = tracker()
    serve_tracker(server, tabs)
    sync = make_sync(server, database_url)
    run(sync, parses)

    metal, rock = tabs[:2]
    rows = album_rows(metal)
    metal.values[rows[3]][GENRE_COLUMN] = "Zeuhl"  # a cell edited
    metal.backgrounds[(rows[4], 3)] = REISSUE_COLOR  # a Length cell colored: now a reissue
    insert_row(metal, rows[-1] + 1, copy_row(metal, rows[5]))  # the same row again: a duplicate
    delete_row(metal, rows[6])  # an album gone from the sheet
    insert_row(metal, rows[0], [])  # a blank row near the top moves every row below it
    shared = next(r for r in album_rows(rock) if tuple(rock.values[r][:2]) in metal.albums)
    delete_row(rock, shared)  # an album of two tabs now in one
    lone = next(r for r in album_rows(rock) if tuple(rock.values[r][:2]) not in metal.albums)
    insert_row(metal, len(metal.values), copy_row(rock, lone))  # an album of one tab now in two
    serve_tracker(server, tabs)

    again = run(sync, parses)
    fresh = make_sync(server, f"sqlite:///{tmp_path / 'fresh.db'}")
    full = run(fresh, parses)
    got, want = catalog(sync), catalog(fresh)
    assert set(got) == set(want)
    assert [
        (k, f, v, want[k][f]) for k, a in got.items() for f, v in a.items() if v != want[k][f]
    ] == []
    assert (again.failed, again.total) == (full.failed, full.total)
    assert [(e.worksheet, e.sheet_row, e.reason) for e in sync.row_errors(again.id)] == [
        (e.worksheet, e.sheet_row, e.reason) for e in fresh.row_errors(full.id)
    ]
    assert any("Duplicate of row" in e.reason for e in sync.row_errors(again.id))
    assert (again.updated, again.removed) == (4, 1)  # genre, color, and the two moved albums
    assert parses[-2] < parses[-1] / 2  # the re-sync still parsed few rows
    sync.close()
    fresh.close()


def test_digests_are_recorded_without_writing_albums_and_a_settings_change_parses_all(
    server, database_url, parses
):
    """Albums stored before the digests (migration 0006 leaves them NULL) get theirs from the
    next sync without being written; a setting that changes what rows mean parses every row."""
    serve_tracker(server, tracker())
    sync = make_sync(server, database_url)
    run(sync, parses)
    everything = parses[-1]
    with sync.db.write() as s:
        s.execute(sa.update(Album).values(row_digest=None))
    before = stored(sync)

    upgraded = run(sync, parses)
    assert parses[-1] == everything
    assert (upgraded.created, upgraded.updated) == (0, 0)
    after = stored(sync)
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    assert sum(1 for v in after.values() if v[2] is not None) == single_tab_albums(sync)

    run(sync, parses)
    assert everything - parses[-1] == single_tab_albums(sync)
    sync.close()

    mapped = make_sync(server, database_url, location_countries={"International": "Norway"})
    changed = run(mapped, parses)
    assert parses[-1] == everything
    assert (
        changed.updated
        == sum(
            1
            for a in mapped.albums(AlbumFilter(), limit=100_000).items
            if a.location == "International"
        )
        > 0
    )
    mapped.close()
