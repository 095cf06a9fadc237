"""bulk.execute_rows and bulk.insert_rows store exactly what SQLAlchemy's own executemany
stores (dates, JSON, booleans, NULLs; an INSERT and an UPDATE by `_id`; on PostgreSQL the
inserts go by COPY), on a real SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from synccore.bulk import execute_rows, insert_rows
from synccore.db import normalize_url
from synccore.upserts import ALBUMS, INSERT_KEYS

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


def albums_like(name: str) -> sa.Table:
    """The albums table's columns and types (and Python defaults), without its foreign keys."""
    return sa.Table(
        name,
        METADATA,
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key, default=c.default)
            for c in ALBUMS.columns
        ),
    )


ITEMS, REFERENCE = table("bulk_items"), table("bulk_reference")  # written by bulk; by SQLAlchemy
ALBUMS_COPY, ALBUMS_REFERENCE = albums_like("bulk_albums"), albums_like("bulk_albums_reference")
KEYS = ("id", "name", "links", "debut", "at", "gone")
NOW = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)
ROWS = [
    (1, "Vola", {"spotify": "https://open.spotify.com/album/a"}, True, NOW, None),
    (2, "Leprous", None, False, NOW, NOW),
    (3, "Ihsahn ‘ö’", {"bandcamp": "https://ihsahn.bandcamp.com/"}, False, NOW, None),
]
# Text that COPY's text format must escape: its delimiter (tab), row end (newline, carriage
# return), escape character (backslash, and a literal \N, its NULL), quotes, non-ASCII.
HOSTILE = [
    "tab\there",
    "line\nbreak\r\nand return\r",
    "back\\slash \\N \\t \\\\",
    "\\N",
    "",
    "'single' \"double\" `back` ,comma; |pipe|",
    "Ångest — 東京事変 🎸 \u200b zero-width \u00a0 nbsp",
]


def album(index: int, text: str, links, at: datetime, removed: datetime | None) -> tuple:
    values = {
        "key": f"name:{text}\x1f{index}",
        "title": text,
        "title_key": text.lower(),
        "artist_id": index,
        "vocal_style_id": None if index % 2 else index,
        "release_year": 2000 + index,
        "release_month": None if index % 3 else 12,
        "release_day": None,
        "release_precision": "year",
        "release_sort": "2001-00-00",
        "release_text": text[:200],
        "spotify_id": None,
        "spotify_url": f"https://open.spotify.com/album/{index}?q=a\tb" if index % 2 else None,
        "location": text,
        "country": "Norway" if index % 2 else None,
        "album_type": text or None,
        "links": links,
        "debut": bool(index % 2),
        "reissue": not index % 2,
        "sheet_row": index + 2,
        "content_hash": f"{index:064x}",
        "row_digest": None if index % 3 else (1 << 63) - 1 - index,  # the largest BIGINT too
        "removed_at": removed,
        "created_at": at,
        "updated_at": at,
        "last_sync_id": index,
    }
    return tuple(values[key] for key in INSERT_KEYS)


ALBUM_ROWS = [
    album(
        index,
        text,
        # JSON: None (stored as JSON null, the column not being none_as_null), and strings
        # that need escaping both in JSON and in COPY's text format.
        None if index == 0 else {"bandcamp": text, "nested": {"list": [text, 1, None, True]}},
        # naive UTC as the sync writes, and aware ones (another offset included)
        NOW.replace(tzinfo=None) if index % 2 else NOW.astimezone(timezone(timedelta(hours=-5))),
        None if index % 3 else NOW + timedelta(days=index),
    )
    for index, text in enumerate(HOSTILE)
]


def stored(engine: sa.Engine, table: str) -> list[tuple]:
    """The rows as the database holds them, not as SQLAlchemy reads them: on PostgreSQL each
    row's text form, which tells JSON null from SQL NULL and keeps the JSON text as stored."""
    query = f"SELECT * FROM {table} ORDER BY id"
    if engine.dialect.name == "postgresql":
        query = f"SELECT CAST(t AS text) FROM {table} AS t ORDER BY id"
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(query)]


@pytest.fixture
def engine(database_url):
    engine = sa.create_engine(normalize_url(database_url))
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


def test_rows_are_stored_as_sqlalchemy_stores_them(engine):
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
    assert stored(engine, "bulk_items") == stored(engine, "bulk_reference")
    with Session(engine) as s:
        names = s.execute(sa.select(ITEMS.c.name).order_by(ITEMS.c.id)).scalars()
        assert list(names) == ["Vola (remaster)", "Leprous", "Caligula's Horse"]


def test_inserted_albums_are_stored_as_sqlalchemy_stores_them(engine):
    """Every column type of albums, escaping-prone text and JSON; on PostgreSQL by COPY (no
    INSERT reaches SQLAlchemy), in a session whose time zone is not UTC, so an aware datetime
    must be converted as the INSERT's cast converts it."""
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with Session(engine) as s, s.begin():
        if engine.dialect.name == "postgresql":
            s.execute(sa.text("SET LOCAL TIME ZONE 'America/Sao_Paulo'"))
        insert_rows(s, ALBUMS_COPY, INSERT_KEYS, ALBUM_ROWS)
        copied = [sql for sql in statements if "bulk_albums" in sql]
        s.execute(
            ALBUMS_REFERENCE.insert(), [dict(zip(INSERT_KEYS, r, strict=True)) for r in ALBUM_ROWS]
        )
    if engine.dialect.name == "postgresql":
        assert copied == []  # it went by COPY, not by an INSERT
    got = stored(engine, "bulk_albums")
    assert got == stored(engine, "bulk_albums_reference")
    assert len(got) == len(HOSTILE)
    with Session(engine) as s:  # read back through SQLAlchemy: the text survived whole
        titles = s.execute(sa.select(ALBUMS_COPY.c.title).order_by(ALBUMS_COPY.c.id)).scalars()
        assert list(titles) == HOSTILE


def test_a_python_side_default_left_out_is_applied(engine):
    """COPY would leave a Python-side default (debut=False) unapplied: such rows go by INSERT."""
    keys = tuple(k for k in INSERT_KEYS if k != "debut")
    row = tuple(v for k, v in zip(INSERT_KEYS, ALBUM_ROWS[1], strict=True) if k != "debut")
    assert ALBUM_ROWS[1][INSERT_KEYS.index("debut")] is True
    with Session(engine) as s, s.begin():
        insert_rows(s, ALBUMS_COPY, keys, [row])
    with Session(engine) as s:
        assert s.execute(sa.select(ALBUMS_COPY.c.debut)).scalar_one() is False


def test_a_refused_insert_raises_sqlalchemys_error(engine):
    """A row the database refuses raises SQLAlchemy's IntegrityError (what the sync's error
    handling looks at), by COPY as by INSERT, and the transaction rolls back."""
    with pytest.raises(sa.exc.IntegrityError), Session(engine) as s, s.begin():
        insert_rows(s, ITEMS, KEYS, [ROWS[0], ROWS[0]])
    assert stored(engine, "bulk_items") == []


def test_a_lost_connection_is_reported_as_sqlalchemy_reports_it(postgres_url):
    """A COPY whose session the server ended raises OperationalError with the connection
    invalidated, as an INSERT would: the sync tells an outage from a bug by that."""
    engine = sa.create_engine(normalize_url(postgres_url))
    METADATA.create_all(engine)
    with Session(engine) as s:
        pid = s.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with engine.begin() as other:  # waits up to 5 s for the session to end
            other.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        with pytest.raises(sa.exc.OperationalError) as caught:
            insert_rows(s, ITEMS, KEYS, ROWS)
        assert caught.value.connection_invalidated
    engine.dispose()
