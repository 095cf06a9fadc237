"""Batch writes: lookup rows (artists, genres, vocal styles) and albums, one transaction a batch.

Each batch costs a handful of statements whatever its size: one upsert per lookup table
(skipping rows whose values did not change), one SELECT of the batch's existing albums, one
executemany INSERT for new albums and one executemany UPDATE for changed ones. Albums whose
content hash matches are not touched at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .db import Database
from .models import Album, Artist, Genre, VocalStyle
from .operations import fence
from .rows import AlbumRow, normalize_name
from .status import utcnow

ALBUMS: Table = Album.__table__  # type: ignore[assignment]


class LookupCache:
    """name_key -> (id, stored values) for lookup rows known to be in the database."""

    def __init__(self) -> None:
        self.artists: dict[str, tuple[int, str, str | None]] = {}
        self.genres: dict[str, tuple[int, str]] = {}
        self.vocal_styles: dict[str, tuple[int, str]] = {}

    @classmethod
    def load(cls, db: Database) -> LookupCache:
        """Everything the lookup tables hold, read once at the start of a sync, so a batch
        whose artists, genres and vocal styles did not change issues no statement for them
        (the lookup tables are small next to the albums: a few per artist)."""
        cache = cls()
        with db.session() as s:
            for model, target in (
                (Artist, cache.artists),
                (Genre, cache.genres),
                (VocalStyle, cache.vocal_styles),
            ):
                table: Table = model.__table__
                columns = [table.c.name_key, table.c.id, table.c.name]
                if model is Artist:
                    columns.append(table.c.country)
                for row in s.execute(select(*columns)):
                    target[row[0]] = tuple(row[1:])
        return cache


def _insert(session: Session, table: Table):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _upsert_named(session: Session, model, wanted: dict[str, dict], cache: dict) -> None:
    """Insert or update lookup rows whose values differ from what this sync last wrote."""
    table: Table = model.__table__
    fresh = [v for k, v in wanted.items() if cache.get(k, (None,))[1:] != _values(model, v)]
    if not fresh:
        return
    stmt = _insert(session, table)
    changed = [table.c.name != stmt.excluded.name]
    set_ = {"name": stmt.excluded.name}
    if model is Artist:
        set_["country"] = func.coalesce(stmt.excluded.country, table.c.country)
        changed.append(
            stmt.excluded.country.is_not(None)
            & table.c.country.is_distinct_from(stmt.excluded.country)
        )
    session.execute(
        stmt.on_conflict_do_update(index_elements=["name_key"], set_=set_, where=or_(*changed)),
        fresh,
    )
    keys = [v["name_key"] for v in fresh]
    columns = [table.c.name_key, table.c.id, table.c.name]
    if model is Artist:
        columns.append(table.c.country)
    for row in session.execute(select(*columns).where(table.c.name_key.in_(keys))):
        cache[row[0]] = tuple(row[1:])


def _values(model, v: dict) -> tuple:
    if model is Artist:
        return (v["name"], v["country"])
    return (v["name"],)


def _lookups(session: Session, batch: Iterable[AlbumRow], cache: LookupCache) -> None:
    artists: dict[str, dict] = {}
    genres: dict[str, dict] = {}
    styles: dict[str, dict] = {}
    for r in batch:
        known = artists.get(r.artist_key)
        country = r.country or (known["country"] if known else None)
        if country is None and r.artist_key in cache.artists:
            country = cache.artists[r.artist_key][2]
        artists[r.artist_key] = {"name_key": r.artist_key, "name": r.artist, "country": country}
        if r.genre_key:
            genres[r.genre_key] = {"name_key": r.genre_key, "name": r.genre}
        if r.vocal_style_key:
            styles[r.vocal_style_key] = {"name_key": r.vocal_style_key, "name": r.vocal_style}
    _upsert_named(session, Artist, artists, cache.artists)
    _upsert_named(session, Genre, genres, cache.genres)
    _upsert_named(session, VocalStyle, styles, cache.vocal_styles)


def _album_values(r: AlbumRow, cache: LookupCache) -> dict:
    rel = r.release
    return {
        "key": r.key,
        "title": r.title,
        "title_key": normalize_name(r.title),
        "artist_id": cache.artists[r.artist_key][0],
        "genre_id": cache.genres[r.genre_key][0] if r.genre_key else None,
        "vocal_style_id": cache.vocal_styles[r.vocal_style_key][0] if r.vocal_style_key else None,
        "release_year": rel.year,
        "release_month": rel.month,
        "release_day": rel.day,
        "release_precision": rel.precision,
        "release_sort": f"{rel.year or 0:04d}-{rel.month or 0:02d}-{rel.day or 0:02d}",
        "release_text": (rel.text or "")[:200],
        "spotify_id": r.spotify_id,
        "spotify_url": r.spotify_url,
        "sheet_row": r.row_number,
        "content_hash": r.content_hash,
        "removed_at": None,
    }


def write_albums(
    db: Database, batch: list[AlbumRow], op_id: int, cache: LookupCache
) -> tuple[int, int, int]:
    """Write one batch atomically; return (created, updated, unchanged)."""
    now = utcnow()
    with db.write(sync_id=op_id) as s:
        _lookups(s, batch, cache)
        existing = {
            key: (album_id, content_hash, removed)
            for key, album_id, content_hash, removed in s.execute(
                select(ALBUMS.c.key, ALBUMS.c.id, ALBUMS.c.content_hash, ALBUMS.c.removed_at).where(
                    ALBUMS.c.key.in_([r.key for r in batch])
                )
            )
        }
        inserts, updates = [], []
        for r in batch:
            found = existing.get(r.key)
            if found is None:
                values = _album_values(r, cache)
                values.update(created_at=now, updated_at=now, last_sync_id=op_id)
                inserts.append(values)
            elif found[1] != r.content_hash or found[2] is not None:
                values = _album_values(r, cache)
                values.update(_id=found[0], updated_at=now, last_sync_id=op_id)
                updates.append(values)
        if inserts:
            s.execute(ALBUMS.insert(), inserts)
        if updates:
            # The SET clause comes from the parameter names; "_id" only feeds the WHERE.
            s.execute(ALBUMS.update().where(ALBUMS.c.id == bindparam("_id")), updates)
        fence(s, op_id)  # last, so the operation's row is locked only while committing
    return len(inserts), len(updates), len(batch) - len(inserts) - len(updates)
