"""Sheets for the robustness tests, and what the catalog must hold after syncing them.

Two things live here: sheet builders (a CSV file, or a spreadsheet on the fake Sheets API with
an API key) and catalog oracles (the keys and content hashes a sheet should produce, and a
snapshot of what the database actually holds), so a test can say "every album equals the old
or the new version of its row" without re-deriving the engine's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from synccore.config import Settings
from synccore.db import Database
from synccore.demo import TrackerTab, tracker_worksheets
from synccore.models import Album, SyncOperation
from synccore.rows import AlbumRow, find_header, parse_row
from synccore.sources.base import RawRow
from synccore.standin import FakeSheetsServer, FakeWorksheet

from .albums import HEADER, album, write_sheet_csv

SHEET_KEY = "robustness0sheet0key0000000000"  # a bare key: 20+ url-safe characters
SERVED_TAB = "Albums"  # the tab `serve_sheet` puts the rows in
API_KEY = "AIzaSy-robustness-test-api-key-0123456789"


def version_rows(n: int, version: int) -> list[list]:
    """n albums; every version changes every album's genre (so each row must be rewritten)."""
    return [album(i, genre=f"Genre v{version} {i % 7}") for i in range(n)]


def write_csv(path: Path, rows: Sequence[Sequence], header: Sequence[str] = HEADER) -> Path:
    return write_sheet_csv(path, [list(r) for r in rows], list(header))


def sheet_api(**options) -> FakeSheetsServer:
    """A fake Sheets API (not started) that accepts API_KEY."""
    return FakeSheetsServer(api_keys=[API_KEY], **options)


def serve_sheet(
    server: FakeSheetsServer,
    rows: Sequence[Sequence],
    header: Sequence[str] = HEADER,
    key: str = SHEET_KEY,
) -> None:
    """Put (or replace) the spreadsheet `key` on the fake, readable with API_KEY."""
    values = [list(header)] + [list(r) for r in rows]
    server.add_spreadsheet(key, [FakeWorksheet(SERVED_TAB, 0, values)], public=True)


def serve_tracker(server: FakeSheetsServer, tabs: list[TrackerTab]) -> None:
    """Put (or replace) a generated tracker's tabs as the spreadsheet SHEET_KEY, readable with
    API_KEY."""
    server.add_spreadsheet(SHEET_KEY, tracker_worksheets(tabs), public=True)


def api_settings(api_url: str, database_url: str, **overrides) -> Settings:
    """Settings that read SHEET_KEY from the fake at `api_url` with an API key, no pacing."""
    values = dict(
        database_url=database_url,
        sheet=SHEET_KEY,
        sheets_api_url=api_url,
        api_key=API_KEY,
        read_quota_per_minute=100_000,
        max_retries=2,
        retry_base_seconds=0.05,
        request_timeout=20.0,
    )
    values.update(overrides)
    return Settings(**values)


def api_env(server: FakeSheetsServer) -> dict[str, str]:
    """The same configuration as environment variables, for a `python -m synccore` child."""
    return {
        "SYNCCORE_SHEET": SHEET_KEY,
        "SYNCCORE_SHEETS_API_URL": server.url,
        "SYNCCORE_GOOGLE_API_KEY": API_KEY,
        "SYNCCORE_READ_QUOTA_PER_MINUTE": "100000",
    }


# -- oracles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What syncing one sheet version should leave: key -> (content hash, sheet row)."""

    albums: dict[str, tuple[str, int]]

    @property
    def keys(self) -> set[str]:
        return set(self.albums)

    def hashes(self) -> dict[str, str]:
        return {k: h for k, (h, _) in self.albums.items()}


def expected_from_rows(
    rows: Sequence[Sequence], header: Sequence[str] = HEADER, worksheet: str = SERVED_TAB
) -> Expected:
    """Parse a sheet version with the engine's own row rules (last duplicate wins), as read
    from the tab `worksheet` (a CSV file is one tab named for the file: "sheet")."""
    raws = [RawRow(1, tuple(header))] + [RawRow(i + 2, tuple(r)) for i, r in enumerate(rows)]
    columns, index = find_header(raws)
    albums: dict[str, tuple[str, int]] = {}
    for raw in raws[index + 1 :]:
        parsed = parse_row(raw, columns, worksheet=worksheet)
        if isinstance(parsed, AlbumRow):
            albums[parsed.key] = (parsed.content_hash, parsed.row_number)
    return Expected(albums)


@dataclass(frozen=True)
class StoredAlbum:
    key: str
    content_hash: str
    removed: bool
    last_sync_id: int | None
    sheet_row: int


def stored_albums(db: Database) -> list[StoredAlbum]:
    with db.session() as s:
        return [
            StoredAlbum(
                a.key, a.content_hash, a.removed_at is not None, a.last_sync_id, a.sheet_row
            )
            for a in s.scalars(select(Album).order_by(Album.id))
        ]


def assert_catalog_equals(db: Database, sheet: Expected) -> None:
    """The albums not marked removed are exactly the sheet's, each with the sheet's content."""
    albums = stored_albums(db)
    live = {a.key: a.content_hash for a in albums if not a.removed}
    assert live == sheet.hashes()
    assert len({a.key for a in albums}) == len(albums)


def sheet_order(sheet: Expected) -> list[str]:
    return [k for k, _ in sorted(sheet.albums.items(), key=lambda kv: kv[1][1])]


def assert_between_versions(
    db: Database, old: Expected, new: Expected, op_id: int, batch: int
) -> None:
    """Nothing half-written: each album is at the old or new version, the new ones form whole
    batches from the top of the sheet, and removals are all-or-nothing."""
    stored = stored_albums(db)
    albums = {a.key: a for a in stored}
    assert len(albums) == len(stored)  # no album twice
    assert set(albums) <= old.keys | new.keys  # nothing that neither version has

    def is_new(key: str) -> bool:
        a = albums.get(key)
        return a is not None and not a.removed and a.content_hash == new.albums[key][0]

    def is_old(key: str) -> bool:
        a = albums.get(key)
        if key in old.albums:
            return a is not None and not a.removed and a.content_hash == old.albums[key][0]
        return a is None or a.removed

    states = []
    for key in sheet_order(new):
        assert is_new(key) or is_old(key), f"album {key!r} is neither the old nor the new row"
        states.append(is_new(key))
    done = states.count(True)
    assert states == [True] * done + [False] * (len(states) - done), "new rows are not a prefix"
    assert done % batch == 0 or done == len(states), f"{done} albums written: a partial batch"
    for key in old.keys - new.keys:
        a = albums[key]
        assert a.removed or a.content_hash == old.albums[key][0]
    gone = [albums[k].removed for k in old.keys - new.keys]
    assert all(gone) or not any(gone), "removals were half done"
    if any(gone):
        assert done == len(states)  # removals come after every batch
    written = [a for a in albums.values() if a.last_sync_id == op_id and not a.removed]
    assert len(written) <= done


def active_operations(db: Database) -> list[SyncOperation]:
    with db.session() as s:
        return list(s.scalars(select(SyncOperation).where(SyncOperation.active_slot.is_not(None))))


def operation_count(db: Database) -> int:
    with db.session() as s:
        return len(s.scalars(select(SyncOperation.id)).all())
