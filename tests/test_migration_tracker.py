"""Upgrading a catalog made by the previous release (schema 0001) to the tracker columns:
every album kept, its genre a one-element list, its artist's country its location; the next
sync fills in the rest. On real SQLite and real PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from synccore import CatalogSync, SyncStatus
from synccore.catalog import AlbumFilter
from synccore.config import Settings
from synccore.db import _alembic_config, normalize_url

from .support.albums import album, write_sheet_csv

NOW = datetime(2026, 1, 1, 12, 0, 0)


def make_previous_release_catalog(url: str, revision: str) -> None:
    """The schema at `revision`, filled the way the release that made it filled it."""
    engine = sa.create_engine(normalize_url(url))
    with engine.begin() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.execute(
            sa.text(
                "INSERT INTO artists (name_key, name, country) VALUES "
                "('artist 1', 'Artist 1', 'Finland'), ('artist 2', 'Artist 2', NULL)"
            )
        )
        conn.execute(sa.text("INSERT INTO genres (name_key, name) VALUES ('doom', 'Doom')"))
        for n, genre in ((1, "doom"), (2, None)):
            conn.execute(
                sa.text(
                    "INSERT INTO albums (key, title, artist_id, genre_id, release_precision, "
                    "release_sort, release_text, sheet_row, content_hash, created_at, "
                    "updated_at) VALUES (:key, :title, "
                    "(SELECT id FROM artists WHERE name_key = :artist), "
                    "(SELECT id FROM genres WHERE name_key = :genre), 'day', "
                    "'2025-03-02', '2025-03-02', :n, 'old-hash', :now, :now)"
                ),
                {
                    "n": n,
                    "key": f"name:artist {n}\x1falbum {n}",
                    "title": f"Album {n}",
                    "artist": f"artist {n}",
                    "genre": genre,
                    "now": NOW,
                },
            )
    engine.dispose()


@pytest.mark.parametrize("previous", ["0001", "0003_worker_notify"])
def test_upgrade_keeps_every_album_with_its_genre_and_location(
    database_url, tmp_path: Path, previous: str
):
    make_previous_release_catalog(database_url, previous)
    sheet = write_sheet_csv(
        tmp_path / "sheet.csv", [album(1, genre="Doom, Sludge"), album(2, country="Tampa, FL")]
    )
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet)))
    page = sync.albums(AlbumFilter())
    upgraded = {a.title: a for a in page.items}
    assert set(upgraded) == {"Album 1", "Album 2"}
    assert upgraded["Album 1"].genres == ("Doom",)
    assert upgraded["Album 1"].location == "Finland"
    assert (upgraded["Album 2"].genres, upgraded["Album 2"].location) == ((), None)
    assert sync.albums(AlbumFilter(genres=("Doom",))).total == 1
    assert sync.facets().genre_counts == {"Doom": 1}

    status = sync.run_sync("tester")
    assert status.status is SyncStatus.COMPLETED
    assert (status.created, status.updated, status.removed) == (0, 2, 0)
    synced = {a.title: a for a in sync.albums(AlbumFilter()).items}
    assert synced["Album 1"].genres == ("Doom", "Sludge")
    assert (synced["Album 1"].country, synced["Album 2"].country) == ("Finland", "United States")
    assert synced["Album 2"].worksheets == ("sheet",)
    assert sync.facets().genre_counts == {"Doom": 1, "Sludge": 1, "Post-Rock": 1}
    again = sync.run_sync("tester")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    sync.close()
