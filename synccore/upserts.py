"""Batch writes: lookup rows (artists, genres, vocal styles, worksheets) and albums, one
transaction a batch.

Each batch costs a handful of statements whatever its size: one upsert per lookup table
(skipping rows whose values did not change), one SELECT of the batch's existing albums (with
their old values, for the change log), two of the old genre and tab lists of the albums to be
rewritten, one executemany INSERT for new albums (a COPY on PostgreSQL) and one executemany
UPDATE for changed ones, then the genre and worksheet lists of the albums written (deleted and
inserted again, also by COPY on PostgreSQL), and one executemany INSERT of the change log
entries. Albums whose content hash matches are not touched at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import changes
from .bulk import among, execute_rows, insert_rows
from .db import Database
from .models import Album, AlbumGenre, AlbumWorksheet, Artist, Genre, VocalStyle, Worksheet
from .operations import fence
from .rows import AlbumRow, normalize_name
from .status import utcnow

ALBUMS: Table = Album.__table__  # type: ignore[assignment]
ALBUM_GENRES: Table = AlbumGenre.__table__  # type: ignore[assignment]
ALBUM_WORKSHEETS: Table = AlbumWorksheet.__table__  # type: ignore[assignment]
_LOOKUPS = (Artist, Genre, VocalStyle, Worksheet)


class LookupCache:
    """name_key -> (id, name) for lookup rows known to be in the database."""

    def __init__(self) -> None:
        self.artists: dict[str, tuple[int, str]] = {}
        self.genres: dict[str, tuple[int, str]] = {}
        self.vocal_styles: dict[str, tuple[int, str]] = {}
        self.worksheets: dict[str, tuple[int, str]] = {}

    def of(self, model) -> dict[str, tuple[int, str]]:
        return {
            Artist: self.artists,
            Genre: self.genres,
            VocalStyle: self.vocal_styles,
            Worksheet: self.worksheets,
        }[model]

    @classmethod
    def load(cls, db: Database) -> LookupCache:
        """Everything the lookup tables hold, read once at the start of a sync, so a batch
        whose artists, genres and vocal styles did not change issues no statement for them
        (the lookup tables are small next to the albums: a few per artist)."""
        cache = cls()
        with db.session() as s:
            for model in _LOOKUPS:
                table = cast(Table, model.__table__)
                target = cache.of(model)
                for key, id_, name in s.execute(select(table.c.name_key, table.c.id, table.c.name)):
                    target[key] = (id_, name)
        return cache


def _insert(session: Session, table: Table):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _upsert_named(session: Session, model, wanted: dict[str, str], cache: dict) -> None:
    """Insert or update lookup rows (name_key -> name) whose name differs from the cache."""
    table: Table = model.__table__
    fresh = [
        {"name_key": k, "name": name}
        for k, name in wanted.items()
        if cache.get(k, (None, None))[1] != name
    ]
    if not fresh:
        return
    stmt = _insert(session, table)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["name_key"],
            set_={"name": stmt.excluded.name},
            where=table.c.name != stmt.excluded.name,
        ),
        fresh,
    )
    keys = [v["name_key"] for v in fresh]
    columns = [table.c.name_key, table.c.id, table.c.name]
    for key, id_, name in session.execute(select(*columns).where(table.c.name_key.in_(keys))):
        cache[key] = (id_, name)


def _lookups(session: Session, batch: Iterable[AlbumRow], cache: LookupCache) -> None:
    artists: dict[str, str] = {}
    genres: dict[str, str] = {}
    styles: dict[str, str] = {}
    worksheets: dict[str, str] = {}
    for r in batch:
        artists[r.artist_key] = r.artist
        for key, name in zip(r.genre_keys, r.genres, strict=True):
            genres[key] = name
        if r.vocal_style_key:
            styles[r.vocal_style_key] = r.vocal_style or ""
        for name in r.worksheets:
            worksheets[name] = name
    _upsert_named(session, Artist, artists, cache.artists)
    _upsert_named(session, Genre, genres, cache.genres)
    _upsert_named(session, VocalStyle, styles, cache.vocal_styles)
    _upsert_named(session, Worksheet, worksheets, cache.worksheets)


# The album columns a sheet row sets, in the order `album_values` gives them.
ALBUM_KEYS = (
    "key",
    "title",
    "title_key",
    "artist_id",
    "vocal_style_id",
    "release_year",
    "release_month",
    "release_day",
    "release_precision",
    "release_sort",
    "release_text",
    "spotify_id",
    "spotify_url",
    "location",
    "country",
    "album_type",
    "links",
    "debut",
    "reissue",
    "sheet_row",
    "content_hash",
    "row_digest",
    "removed_at",
)
INSERT_KEYS = (*ALBUM_KEYS, "created_at", "updated_at", "last_sync_id")
UPDATE_KEYS = (*ALBUM_KEYS, "updated_at", "last_sync_id", "_id")


def album_values(r: AlbumRow, cache: LookupCache) -> tuple:
    """The ALBUM_KEYS columns of a sheet row's album (a tuple: see bulk.execute_rows)."""
    rel = r.release
    return (
        r.key,
        r.title,
        normalize_name(r.title),
        cache.artists[r.artist_key][0],
        cache.vocal_styles[r.vocal_style_key][0] if r.vocal_style_key else None,
        rel.year,
        rel.month,
        rel.day,
        rel.precision,
        rel.sort_key,
        (rel.text or "")[:200],
        r.spotify_id,
        r.spotify_url,
        r.location,
        r.country,
        r.album_type,
        dict(r.links) or None,
        r.debut,
        r.reissue,
        r.row_number,
        r.content_hash,
        r.row_digest,
        None,  # removed_at: a row in the sheet is not removed
    )


def _write_lists(
    session: Session, written: list[tuple[int, AlbumRow]], replaced: list[int], cache: LookupCache
) -> None:
    """The genre and worksheet lists of the albums just written; `replaced` ones lose theirs
    first (an update rewrites the whole list: simpler than a diff, and rare)."""
    if replaced:
        session.execute(delete(ALBUM_GENRES).where(ALBUM_GENRES.c.album_id.in_(replaced)))
        session.execute(delete(ALBUM_WORKSHEETS).where(ALBUM_WORKSHEETS.c.album_id.in_(replaced)))
    genres = [
        (album_id, cache.genres[key][0], position)
        for album_id, r in written
        for position, key in enumerate(r.genre_keys)
    ]
    tabs = [
        (album_id, cache.worksheets[name][0], position)
        for album_id, r in written
        for position, name in enumerate(r.worksheets)
    ]
    insert_rows(session, ALBUM_GENRES, ("album_id", "genre_id", "position"), genres)
    insert_rows(session, ALBUM_WORKSHEETS, ("album_id", "worksheet_id", "position"), tabs)


def write_albums(
    db: Database,
    batch: list[AlbumRow],
    op_id: int,
    cache: LookupCache,
    *,
    initial_load: bool = False,
) -> tuple[int, int, int]:
    """Write one batch atomically with its change log entries; return (created, updated,
    unchanged). In an `initial_load` the new albums only add to the sync's one entry."""
    now = utcnow()
    with db.write(sync_id=op_id) as s:
        # Read before the lookups are written: an artist renamed in case keeps its old name here.
        # An initial load into an empty catalog (this sync writes each key once) has none.
        existing = {} if initial_load else changes.stored_albums(s, [r.key for r in batch])
        rewritten = [
            f.id for r in batch if (f := existing.get(r.key)) and changes.needs_write(f, r)
        ]
        old_lists = changes.stored_lists(s, rewritten)
        _lookups(s, batch, cache)
        inserts, updates = [], []
        replaced: list[int] = []  # the albums updated, whose lists are written again
        written: list[tuple[int, AlbumRow]] = []
        new_rows: list[AlbumRow] = []
        for r in batch:
            found = existing.get(r.key)
            if found is None:
                inserts.append((*album_values(r, cache), now, now, op_id))
                new_rows.append(r)
            elif changes.needs_write(found, r):
                updates.append((*album_values(r, cache), now, op_id, found.id))
                replaced.append(found.id)
                written.append((found.id, r))
        ids: dict[str, int] = {}
        if inserts:
            insert_rows(s, ALBUMS, INSERT_KEYS, inserts)
            ids = dict(
                s.execute(
                    select(ALBUMS.c.key, ALBUMS.c.id).where(
                        among(s, ALBUMS.c.key, [r.key for r in new_rows])
                    )
                ).all()
            )
            written.extend((ids[r.key], r) for r in new_rows)
        if updates:
            # The SET clause comes from the parameter names; "_id" only feeds the WHERE.
            update = ALBUMS.update().where(ALBUMS.c.id == bindparam("_id"))
            execute_rows(s, update, UPDATE_KEYS, updates)
        if written:
            _write_lists(s, written, replaced, cache)
        if initial_load:
            changes.record_initial_load(s, op_id, len(inserts))
        else:
            changes.record(s, op_id, changes.batch_changes(batch, existing, old_lists, ids))
        fence(s, op_id)  # last, so the operation's row is locked only while committing
    return len(inserts), len(updates), len(batch) - len(inserts) - len(updates)


def store_row_digests(db: Database, digests: list[tuple[int, str]], op_id: int) -> None:
    """Record (row digest, album key) pairs for unchanged albums read from a row whose digest
    the catalog did not hold yet (the first re-sync after an upgrade or a settings change):
    the album itself is not written, so it keeps its updated_at and last sync."""
    with db.write(sync_id=op_id) as s:
        update = ALBUMS.update().where(ALBUMS.c.key == bindparam("_key"))
        execute_rows(s, update, ("row_digest", "_key"), digests)
        fence(s, op_id)


def preview_albums(db: Database, batch: list[AlbumRow]) -> list[changes.Entry]:
    """The change entries writing this batch would record, read without writing."""
    with db.session() as s:
        existing = changes.stored_albums(s, [r.key for r in batch])
        rewritten = [
            f.id for r in batch if (f := existing.get(r.key)) and changes.needs_write(f, r)
        ]
        return changes.batch_changes(batch, existing, changes.stored_lists(s, rewritten))


def refresh_genre_counts(db: Database, op_id: int) -> None:
    """Recount each genre's albums still in the sheet, once at the end of a sync that changed
    the catalog, so the Catalog page's genre list with counts is a read of a small table.

    Two grouped reads rather than a join of every album: all the genre links (the covering
    index on album_genres), minus those of removed albums (found from the removed_at index);
    then only the genres whose count moved are written.
    """
    with db.session() as s:
        listed: dict[int, int] = dict(
            s.execute(
                select(ALBUM_GENRES.c.genre_id, func.count()).group_by(ALBUM_GENRES.c.genre_id)
            ).all()
        )
        removed = s.execute(
            select(ALBUM_GENRES.c.genre_id, func.count())
            .where(
                # IN, not a join: planners then start from the few removed albums
                ALBUM_GENRES.c.album_id.in_(
                    select(ALBUMS.c.id).where(ALBUMS.c.removed_at.is_not(None))
                )
            )
            .group_by(ALBUM_GENRES.c.genre_id)
        ).all()
        stored = dict(s.execute(select(Genre.id, Genre.albums)).all())
    for genre_id, count in removed:
        listed[genre_id] = listed.get(genre_id, 0) - count
    moved = [
        {"_id": genre_id, "albums": listed.get(genre_id, 0)}
        for genre_id, albums in stored.items()
        if albums != listed.get(genre_id, 0)
    ]
    with db.write() as s:
        if moved:
            table: Table = Genre.__table__  # type: ignore[assignment]
            s.execute(table.update().where(table.c.id == bindparam("_id")), moved)
        fence(s, op_id)
