"""The Catalog search (`CatalogSync.albums(AlbumFilter(search=...))`) on SQLite and PostgreSQL:
LIKE wildcards match themselves, case is ignored for any script the same way on both
databases, and a catalog made before the search column existed is backfilled by its migration.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from alembic import command

from synccore import AlbumFilter, CatalogSync, load_settings
from synccore.db import _alembic_config, normalize_url

from .support.albums import album, write_sheet_csv

TITLES = [
    "100% Pure",
    "1000 Pure",
    "Snake_Case",
    "SnakeXCase",
    "Back\\slash",
    "Backslash",
    "Path/Dir",
    "Große Nacht",
    "Öffnung",
    "Ångest",
    "Plain Record",
]


@pytest.fixture
def catalog(database_url, tmp_path):
    rows = [album(n, album=title) for n, title in enumerate(TITLES)]
    rows.append(album(50, artist="Ørkenvind", album="Sand"))
    sheet = write_sheet_csv(tmp_path / "sheet.csv", rows)
    sync = CatalogSync(
        load_settings(
            {"SYNCCORE_DATABASE_URL": database_url, "SYNCCORE_SHEET": str(sheet)}, environ={}
        )
    )
    sync.run_sync("tester")
    yield sync
    sync.close()


def found(sync: CatalogSync, text: str) -> list[str]:
    page = sync.albums(AlbumFilter(search=text), limit=100)
    assert page.total == len(page.items)
    return sorted(a.title for a in page.items)


@pytest.mark.parametrize(
    "text, titles",
    [
        ("%", ["100% Pure"]),
        ("0% p", ["100% Pure"]),
        ("_", ["Snake_Case"]),
        ("e_c", ["Snake_Case"]),
        ("\\", ["Back\\slash"]),
        ("/", ["Path/Dir"]),
        ("k\\s", ["Back\\slash"]),
    ],
)
def test_wildcards_and_the_escape_character_match_themselves(catalog, text, titles):
    assert found(catalog, text) == titles


@pytest.mark.parametrize(
    "text, titles",
    [
        ("große", ["Große Nacht"]),
        ("GROSSE NACHT", ["Große Nacht"]),  # full case folding: ß is ss
        ("öffnung", ["Öffnung"]),
        ("ÖFFNUNG", ["Öffnung"]),
        ("ÅNGEST", ["Ångest"]),
        ("A\u030angest", ["Ångest"]),  # decomposed Å, as some keyboards type it
        ("  plain   RECORD ", ["Plain Record"]),
        ("ørkenVIND", ["Sand"]),  # the artist's name
    ],
)
def test_non_ascii_text_matches_case_insensitively(catalog, text, titles):
    assert found(catalog, text) == titles


def test_a_catalog_from_before_the_search_column_is_backfilled(database_url):
    """A database the previous schema (migration 0001) made, with albums in it: opening it
    migrates, and the search finds its albums exactly as if a sync had written them."""
    engine = sa.create_engine(normalize_url(database_url))
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    now = datetime(2025, 3, 14, 9, 30)
    titles = ["Große Nacht", "Öffnung", "100% Pure", "Plain  Record"]
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO artists (id, name_key, name) VALUES (1, 'band', 'Band')"))
        conn.execute(
            sa.text(
                "INSERT INTO albums (id, key, title, artist_id, release_precision, release_sort,"
                " release_text, sheet_row, content_hash, created_at, updated_at)"
                " VALUES (:id, :key, :title, 1, 'none', '0000-00-00', '', :id, 'h', :now, :now)"
            ),
            [{"id": i, "key": f"k{i}", "title": t, "now": now} for i, t in enumerate(titles, 1)],
        )
    engine.dispose()

    sync = CatalogSync(load_settings({"SYNCCORE_DATABASE_URL": database_url}, environ={}))
    try:
        with sync.db.read_engine.connect() as conn:
            keys = dict(conn.execute(sa.text("SELECT title, title_key FROM albums")).all())
        assert keys == {
            "Große Nacht": "grosse nacht",
            "Öffnung": "öffnung",
            "100% Pure": "100% pure",
            "Plain  Record": "plain record",
        }
        assert found(sync, "GROSSE") == ["Große Nacht"]
        assert found(sync, "%") == ["100% Pure"]
    finally:
        sync.close()
