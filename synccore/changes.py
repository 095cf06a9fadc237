"""The change log: what a sync did to each album, field by field.

Each sync records created, updated (for each field the sheet carries that changed, its old and
new value), removed and restored albums; a first sync into an empty catalog records one
"initial_load" entry with its count instead of one per album, and a sync that changed nothing
records nothing. A preview records, under its own operation, what the sync would do.

Recording costs no query of its own: the write path already reads each batch's stored albums
to compare content hashes, and reads their old values in that same statement (`STORED`);
the entries go in with one executemany INSERT per batch, in the batch's transaction. Field
values are compared as the batch holds them (release dates as `ReleaseDate`, lists as tuples)
and only the fields that differ are shaped for people and written as JSON text (orjson), so an
updated album costs a few microseconds: `python -m bench --only changelog` measures it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import Row, Select, Table, func, or_, select
from sqlalchemy.orm import Session

from .bulk import among
from .catalog import search_condition
from .models import (
    Album,
    AlbumChange,
    AlbumGenre,
    AlbumWorksheet,
    Artist,
    Genre,
    SyncOperation,
    VocalStyle,
    Worksheet,
)
from .rows import AlbumRow, ReleaseDate
from .status import as_utc

CREATED = "created"
UPDATED = "updated"
REMOVED = "removed"
RESTORED = "restored"
INITIAL_LOAD = "initial_load"
# The albums a sync stopped by the removal guard would have removed (not removed): what the
# Sync page lists for "Remove them and sync". Not a change: album histories skip it.
HELD = "held"
KINDS = (CREATED, UPDATED, REMOVED, RESTORED, INITIAL_LOAD, HELD)

CHANGES: Table = cast(Table, AlbumChange.__table__)
ALBUMS: Table = cast(Table, Album.__table__)

# The fields compared, as a person reads them (`albums --json` names). The two lists come
# last: a batch reads them apart from the album's row (`stored_lists`) and appends them.
FIELDS = (
    "artist",
    "title",
    "release",
    "vocal_style",
    "location",
    "country",
    "album_type",
    "debut",
    "reissue",
    "links",
    "genres",
    "worksheets",
)


@dataclass(frozen=True)
class StoredAlbum:
    """A catalog album as a batch's hash comparison reads it, with its old values."""

    id: int
    content_hash: str
    removed: bool
    values: tuple  # FIELDS but the two lists, shaped as `sheet_values` shapes them


class Entry(NamedTuple):
    """One change log entry before it is stored; `diff` is its fields as JSON text."""

    album_id: int | None
    change: str
    artist: str | None
    title: str | None
    diff: str | None = None  # {name: [old, new]}
    albums: int | None = None  # an initial load's count (stored as `count`)

    @property
    def fields(self) -> dict[str, list] | None:
        return None if self.diff is None else orjson.loads(self.diff)


def stored_albums(session: Session, keys: Sequence[str]) -> dict[str, StoredAlbum]:
    """The stored albums of these keys: one SELECT (the one the hash comparison needs anyway,
    widened by the old values and the artist's and vocal style's names)."""
    rows = session.execute(_stored_query().where(among(session, ALBUMS.c.key, keys)))
    return {row.key: _stored(row) for row in rows}


def _stored_query() -> Select:
    return (
        select(
            ALBUMS.c.key,
            ALBUMS.c.id,
            ALBUMS.c.content_hash,
            ALBUMS.c.removed_at,
            ALBUMS.c.title,
            Artist.name.label("artist"),
            VocalStyle.name.label("vocal_style"),
            ALBUMS.c.release_year,
            ALBUMS.c.release_month,
            ALBUMS.c.release_day,
            ALBUMS.c.release_precision,
            ALBUMS.c.release_text,
            ALBUMS.c.location,
            ALBUMS.c.country,
            ALBUMS.c.album_type,
            ALBUMS.c.debut,
            ALBUMS.c.reissue,
            ALBUMS.c.links,
        )
        .join(Artist, Artist.id == ALBUMS.c.artist_id)
        .outerjoin(VocalStyle, VocalStyle.id == ALBUMS.c.vocal_style_id)
    )


def _stored(row: Row) -> StoredAlbum:
    release = ReleaseDate(
        row.release_year,
        row.release_month,
        row.release_day,
        row.release_precision,
        row.release_text,
    )
    values = (
        row.artist,
        row.title,
        release,
        row.vocal_style,
        row.location,
        row.country,
        row.album_type,
        bool(row.debut),
        bool(row.reissue),
        tuple(sorted((row.links or {}).items())),  # as AlbumRow.links: sorted pairs
    )
    return StoredAlbum(row.id, row.content_hash, row.removed_at is not None, values)


def stored_lists(session: Session, album_ids: Sequence[int]) -> dict[int, tuple[tuple, tuple]]:
    """The (genres, tabs) of these albums, in order (two SELECTs for a whole batch)."""
    found: dict[int, tuple[list, list]] = {i: ([], []) for i in album_ids}
    if not album_ids:
        return {}
    for album_id, name in session.execute(
        select(AlbumGenre.album_id, Genre.name)
        .join(Genre, Genre.id == AlbumGenre.genre_id)
        .where(AlbumGenre.album_id.in_(album_ids))
        .order_by(AlbumGenre.album_id, AlbumGenre.position)
    ):
        found[album_id][0].append(name)
    for album_id, name in session.execute(
        select(AlbumWorksheet.album_id, Worksheet.name)
        .join(Worksheet, Worksheet.id == AlbumWorksheet.worksheet_id)
        .where(AlbumWorksheet.album_id.in_(album_ids))
        .order_by(AlbumWorksheet.album_id, AlbumWorksheet.position)
    ):
        found[album_id][1].append(name)
    return {i: (tuple(g), tuple(w)) for i, (g, w) in found.items()}


# Pure: a sheet row's FIELDS, shaped as `_stored` shapes a catalog album (tuples and the
# ReleaseDate itself, so comparing costs no conversion; `diff_json` shapes only what differs).
sheet_values = attrgetter(*FIELDS)
_INDEXES = range(len(FIELDS))


def diff_json(old: Sequence, new: Sequence) -> str | None:
    """Pure: {field: [old, new]} as JSON text for each of FIELDS whose value differs (None
    when none does); dates as people read them, links as {service: URL}, as `albums --json`
    shows them. A date written differently but read the same is no change."""
    changed: dict[str, Any] = {FIELDS[i]: (old[i], new[i]) for i in _INDEXES if old[i] != new[i]}
    if "release" in changed:
        was, now = (d.display for d in changed["release"])
        if was == now:
            del changed["release"]
        else:
            changed["release"] = (was, now)
    if "links" in changed:
        changed["links"] = tuple(dict(pairs or ()) for pairs in changed["links"])
    return orjson.dumps(changed).decode() if changed else None


def needs_write(found: StoredAlbum | None, r: AlbumRow) -> bool:
    return found is None or found.removed or found.content_hash != r.content_hash


def batch_changes(
    batch: Iterable[AlbumRow],
    stored: dict[str, StoredAlbum],
    lists: dict[int, tuple[tuple, tuple]],
    new_ids: dict[str, int] | None = None,
) -> list[Entry]:
    """Pure: the change entries of a batch against the stored albums. `new_ids` gives
    created albums their ids (a preview has none)."""
    entries: list[Entry] = []
    ids = new_ids or {}
    for r in batch:
        found = stored.get(r.key)
        if found is None:
            entries.append(Entry(ids.get(r.key), CREATED, r.artist, r.title))
        elif needs_write(found, r):
            old = found.values + lists.get(found.id, ((), ()))
            kind = RESTORED if found.removed else UPDATED
            entries.append(
                Entry(found.id, kind, r.artist, r.title, diff_json(old, sheet_values(r)))
            )
    return entries


def record(session: Session, op_id: int, entries: Sequence[Entry]) -> None:
    """Store entries in the caller's transaction: one executemany INSERT of the entries as
    they are (the operation's id is a literal: SQLAlchemy's per-row parameter processing, or
    building new rows, would cost more than the INSERT). Names were checked to fit their
    columns when the row was read (rows.NAME_LENGTH)."""
    if not entries:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    json_mark = mark if connection.dialect.name == "sqlite" else f"CAST({mark} AS JSON)"
    marks = ", ".join([mark] * 4 + [json_mark, mark])
    connection.exec_driver_sql(
        "INSERT INTO album_changes (operation_id, album_id, change, artist, title, fields, "
        f"count) VALUES ({int(op_id)}, {marks})",
        list(entries),
    )


def record_initial_load(session: Session, op_id: int, created: int) -> None:
    """Add a batch's new albums to the sync's single "initial load" entry."""
    if not created:
        return
    table = CHANGES
    done = session.execute(
        table.update()
        .where(table.c.operation_id == op_id, table.c.change == INITIAL_LOAD)
        .values(count=table.c.count + created)
    )
    if getattr(done, "rowcount", 0) == 0:
        record(session, op_id, [Entry(None, INITIAL_LOAD, None, None, None, created)])


def removal_entries(session: Session, album_ids: Sequence[int], kind: str = REMOVED) -> list[Entry]:
    """Removed (or HELD) entries for these albums not yet marked removed, one SELECT."""
    rows = session.execute(
        select(ALBUMS.c.id, Artist.name, ALBUMS.c.title)
        .join(Artist, Artist.id == ALBUMS.c.artist_id)
        .where(ALBUMS.c.id.in_(album_ids), ALBUMS.c.removed_at.is_(None))
    )
    return [Entry(album_id, kind, artist, title) for album_id, artist, title in rows]


# -- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRecord:
    """One change log entry, as the CLI and pages show it."""

    operation_id: int
    album_id: int | None
    artist: str | None
    title: str | None
    change: str
    fields: dict[str, list]
    count: int | None = None
    at: datetime | None = None  # when its sync started
    triggered_by: str = ""
    trigger: str | None = None
    preview: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "album_id": self.album_id,
            "artist": self.artist,
            "title": self.title,
            "change": self.change,
            "fields": self.fields,
        }
        if self.change == INITIAL_LOAD:
            data["count"] = self.count
        return data

    @property
    def summary(self) -> str:
        """One line: 'genres: ["Djent"] -> ["Djent", "Prog-metal"]; title: ...'."""
        if self.change == INITIAL_LOAD:
            return f"initial load of {self.count or 0:,} albums"
        return "; ".join(
            f"{name}: {show(old)} -> {show(new)}" for name, (old, new) in self.fields.items()
        )


def show(value: Any) -> str:
    """A field value as one short text (JSON-like, so lists and empty values read clearly)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _record(row: Row) -> ChangeRecord:
    c = row.AlbumChange
    return ChangeRecord(
        operation_id=c.operation_id,
        album_id=c.album_id,
        artist=c.artist,
        title=c.title,
        change=c.change,
        fields=dict(c.fields or {}),
        count=c.count,
        at=as_utc(row.started_at),
        triggered_by=row.triggered_by,
        trigger=row.trigger,
        preview=bool(row.preview),
    )


def _records_query() -> Select:
    return select(
        AlbumChange,
        SyncOperation.started_at,
        SyncOperation.triggered_by,
        SyncOperation.trigger,
        SyncOperation.preview,
    ).join(SyncOperation, SyncOperation.id == AlbumChange.operation_id)


def changes_of(
    session: Session,
    op_id: int,
    *,
    kinds: Sequence[str] = (),
    search: str = "",
    limit: int | None = None,
    offset: int = 0,
) -> list[ChangeRecord]:
    """A sync's change log in album order; filtered by kind and by artist or title text."""
    query = _records_query().where(AlbumChange.operation_id == op_id)
    query = _filtered(query, kinds, search).order_by(AlbumChange.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_record(row) for row in session.execute(query)]


def count_changes(session: Session, op_id: int, kinds: Sequence[str] = (), search: str = "") -> int:
    query = select(func.count()).select_from(AlbumChange).where(AlbumChange.operation_id == op_id)
    return session.scalar(_filtered(query, kinds, search)) or 0


def _filtered(query: Select, kinds: Sequence[str], search: str) -> Select:
    """Entries of these kinds whose artist or title contains `search`: as the entry names
    them (SQL lower(), which folds ASCII only on SQLite), or as its album is named now,
    ignoring case in any script like the Catalog's search (`catalog.search_condition`)."""
    if kinds:
        query = query.where(AlbumChange.change.in_(list(kinds)))
    text = search.strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        albums = select(Album.id).join(Artist, Artist.id == Album.artist_id)
        query = query.where(
            or_(
                func.lower(AlbumChange.artist).like(pattern, escape="\\"),
                func.lower(AlbumChange.title).like(pattern, escape="\\"),
                AlbumChange.album_id.in_(albums.where(search_condition(search.strip()))),
            )
        )
    return query


def album_history(session: Session, album_id: int, limit: int = 100) -> list[ChangeRecord]:
    """One album's changes by real syncs (not previews), newest first."""
    query = (
        _records_query()
        .where(
            AlbumChange.album_id == album_id,
            SyncOperation.preview.is_(False),
            AlbumChange.change != HELD,
        )
        .order_by(AlbumChange.operation_id.desc())
        .limit(limit)
    )
    return [_record(row) for row in session.execute(query)]


def last_changed_sync(session: Session) -> int | None:
    """The most recent sync (not a preview) that recorded a change."""
    return session.scalar(
        select(AlbumChange.operation_id)
        .join(SyncOperation, SyncOperation.id == AlbumChange.operation_id)
        .where(
            SyncOperation.preview.is_(False),
            SyncOperation.active_slot.is_(None),
            AlbumChange.change != HELD,
        )
        .order_by(AlbumChange.operation_id.desc())
        .limit(1)
    )
