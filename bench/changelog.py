"""Scenario 7: what the change log costs a sync that changes every album.

Issue 11 asks that recording the change log of 100,000 updated albums take well under a
second of the sync's time on SQLite. Measured in this process (no sheet needed) as the sync
does it, one batch of `Settings.batch_size` albums at a time: building the entries from the
values a batch already read, and storing them in one transaction, against the floor of
storing as many rows of the same size with one `executemany` into a flat table.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from synccore import changes
from synccore.config import Settings
from synccore.db import Database
from synccore.operations import claim
from synccore.rows import AlbumRow, ReleaseDate

from .common import Context, Figure, database

SCENARIO = "7 change log cost"
TARGET_SECONDS = 1.0  # per 100,000 updated albums


def updated_albums(count: int) -> tuple[list[AlbumRow], dict, dict]:
    """`count` sheet rows, each an album whose genre list gained a genre since the catalog's
    copy: the rows, the stored albums as a batch reads them, and their stored lists."""
    release = ReleaseDate(2025, 1, 1, "day", "2025-01-01")
    links = (("spotify", "https://open.spotify.com/album/x"),)
    stored, rows = {}, []
    for n in range(count):
        key = f"name:a{n}\x1ft{n}"
        row = AlbumRow(
            n, key, f"T{n}", f"A{n}", f"a{n}", "Oslo, Norway", "Norway", ("Djent", "Prog"),
            ("djent", "prog"), "Clean", "clean", "LP", release, None, None, links, False, False,
            ("2025",), "new",
        )  # fmt: skip
        rows.append(row)
        old = changes.sheet_values(row)
        stored[key] = changes.StoredAlbum(n + 1, "old", False, old[:-2])
    lists = {n + 1: (("Djent",), ("2025",)) for n in range(count)}
    return rows, stored, lists


def change_log(ctx: Context) -> list[Figure]:
    count = 20_000 if ctx.options.quick else 100_000
    rows, stored, lists = updated_albums(count)
    figures = []
    for kind in ctx.options.dbs:
        with database(kind, ctx.options.workdir, "changelog") as url:
            db = Database(url)
            op = claim(db, Settings(database_url=url, sheet="bench"), "bench")
            size = Settings(database_url=url, sheet="bench").batch_size
            logged: list[changes.Entry] = []
            started = time.perf_counter()
            with db.write() as s:
                for first in range(0, count, size):
                    batch = changes.batch_changes(rows[first : first + size], stored, lists)
                    changes.record(s, op, batch)
                    logged += batch
            took = time.perf_counter() - started
            floor = _flat_insert_seconds(db, [e.diff or "" for e in logged])
            db.dispose()
        scaled = took * 100_000 / count
        figures.append(
            Figure(
                SCENARIO,
                f"build and store the log of {count:,} updated albums",
                round(took, 3),
                "s",
                kind,
                baseline="one executemany of as many rows into a flat table",
                baseline_value=round(floor, 3),
                ratio=took / floor if floor else None,
                ratio_text=f"{took / floor:.1f}x the floor" if floor else "",
                target=f"< {TARGET_SECONDS:.0f} s per 100,000 (SQLite)",
                holds=scaled < TARGET_SECONDS if kind == "sqlite" else None,
                note=f"{len(logged):,} entries; {scaled:.2f} s per 100,000",
            )
        )
    return figures


def _flat_insert_seconds(db: Database, texts: list[str]) -> float:
    table = sa.Table(
        "bench_flat_changes",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("album_id", sa.Integer),
        sa.Column("fields", sa.Text),
    )
    table.create(db.write_engine)
    started = time.perf_counter()
    with db.write_engine.begin() as conn:
        conn.execute(table.insert(), [{"album_id": n, "fields": t} for n, t in enumerate(texts)])
    return time.perf_counter() - started
