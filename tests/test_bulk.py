"""bulk.execute_rows stores exactly what SQLAlchemy's own executemany stores (dates, JSON,
booleans, NULLs; an INSERT and an UPDATE by `_id`), on a real SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from synccore.bulk import execute_rows
from synccore.db import normalize_url

METADATA = sa.MetaData()


def table(name: str) -> sa.Table:
    return sa.Table(
        name,
        METADATA,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50)),
        sa.Column("links", sa.JSON),
        sa.Column("debut", sa.Boolean),
        sa.Column("at", sa.DateTime),
        sa.Column("gone", sa.DateTime),
    )


ITEMS, REFERENCE = table("bulk_items"), table("bulk_reference")  # written by bulk; by SQLAlchemy
KEYS = ("id", "name", "links", "debut", "at", "gone")
NOW = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)
ROWS = [
    (1, "Vola", {"spotify": "https://open.spotify.com/album/a"}, True, NOW, None),
    (2, "Leprous", None, False, NOW, NOW),
    (3, "Ihsahn ‘ö’", {"bandcamp": "https://ihsahn.bandcamp.com/"}, False, NOW, None),
]


def stored(engine: sa.Engine, table: str) -> list[tuple]:
    with engine.connect() as conn:  # as the database holds them, not as SQLAlchemy reads them
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY id")]


def test_rows_are_stored_as_sqlalchemy_stores_them(database_url):
    engine = sa.create_engine(normalize_url(database_url))
    METADATA.create_all(engine)
    reference = REFERENCE
    with Session(engine) as s, s.begin():
        execute_rows(s, ITEMS.insert(), KEYS, ROWS)
        s.execute(reference.insert(), [dict(zip(KEYS, row, strict=True)) for row in ROWS])
    assert stored(engine, "bulk_items") == stored(engine, "bulk_reference")

    later = datetime(2026, 3, 15, tzinfo=UTC)
    changes = [("Vola (remaster)", False, later, 1), ("Caligula's Horse", True, later, 3)]
    keys = ("name", "debut", "at", "_id")
    with Session(engine) as s, s.begin():
        for table in (ITEMS, reference):
            update = table.update().where(table.c.id == sa.bindparam("_id"))
            if table is ITEMS:
                execute_rows(s, update, keys, changes)
            else:
                s.execute(update, [dict(zip(keys, row, strict=True)) for row in changes])
    after = stored(engine, "bulk_items")
    assert after == stored(engine, "bulk_reference")
    assert [row[1] for row in after] == ["Vola (remaster)", "Leprous", "Caligula's Horse"]
    engine.dispose()
