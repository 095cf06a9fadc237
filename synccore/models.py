"""The catalog and sync bookkeeping tables (SQLAlchemy 2 typed ORM).

Live progress (`SyncOperation`) is kept apart from results (`SyncResult`, `SyncRowError`):
the dashboard polls the first every 2 s, the History page reads the second.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .rows import NAME_LENGTH

convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=convention)


class SyncStatus(str, enum.Enum):
    """Stored as text; `is_active` ones hold the single active slot."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    COMPLETED_WITH_WARNINGS = "completed_with_warnings"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    # A preview (dry run) that read and planned everything: neither a success nor a failure,
    # so it never moves "Last synced" (a preview that could not read the sheet is FAILED).
    PREVIEWED = "previewed"

    @property
    def is_active(self) -> bool:
        return self in (SyncStatus.PENDING, SyncStatus.RUNNING)

    @property
    def succeeded(self) -> bool:
        return self in (SyncStatus.COMPLETED, SyncStatus.COMPLETED_WITH_WARNINGS)


class SyncStage(str, enum.Enum):
    FETCHING = "fetching"
    PROCESSING = "processing"
    FINALIZING = "finalizing"


class NamedRow:
    """A name the catalog keeps once (artists, genres, vocal styles, tabs): `name_key` is the
    form it is matched by, `name` the first spelling seen."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)  # columns first
    name_key: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True, sort_order=-1)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), sort_order=-1)


class Artist(NamedRow, Base):
    __tablename__ = "artists"


class Genre(NamedRow, Base):
    """A genre; `albums` counts the catalog's albums listing it (not removed), refreshed at
    the end of each sync that changed something, so the filter's counts cost no scan."""

    __tablename__ = "genres"
    albums: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class VocalStyle(NamedRow, Base):
    __tablename__ = "vocal_styles"


class Worksheet(NamedRow, Base):
    """A tab of the spreadsheet an album was read from (`name_key` is the exact title)."""

    __tablename__ = "worksheets"


class AlbumLink:
    """A row tying an album to one of its genres or tabs, in the sheet's order (`position`)."""

    # sort_order: album_id leads the composite primary key, as in the migrations
    album_id: Mapped[int] = mapped_column(
        ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True, sort_order=-1
    )
    position: Mapped[int] = mapped_column(Integer, sort_order=1)


class AlbumGenre(AlbumLink, Base):
    """An album's genres, in the sheet's order (`position`)."""

    __tablename__ = "album_genres"
    genre_id: Mapped[int] = mapped_column(ForeignKey("genres.id"), primary_key=True)

    __table_args__ = (Index("ix_album_genres_genre", "genre_id", "album_id"),)


class AlbumWorksheet(AlbumLink, Base):
    """The tabs an album is listed in, in sheet order (`position`)."""

    __tablename__ = "album_worksheets"
    worksheet_id: Mapped[int] = mapped_column(ForeignKey("worksheets.id"), primary_key=True)

    __table_args__ = (Index("ix_album_worksheets_worksheet", "worksheet_id", "album_id"),)


class Album(Base):
    """An album; `key` is `spotify:<id>` or `name:<artist>\\x1f<title>` (see rows.album_key).

    `location` is the sheet's "Country / State" text, `country` the country derived from it;
    `links` maps a service ("spotify", "bandcamp", ...) to a URL; `debut` and `reissue` come
    from the Length cell's color.
    """

    __tablename__ = "albums"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(1100), unique=True)
    title: Mapped[str] = mapped_column(String(NAME_LENGTH))
    # The title in rows.normalize_name's form, what the Catalog search matches (see
    # catalog.search_condition). Every write sets it; the '' default only lets migration 0002
    # add the column to a full table without rebuilding it before the backfill.
    title_key: Mapped[str] = mapped_column(String(NAME_LENGTH), server_default="")
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id"))
    vocal_style_id: Mapped[int | None] = mapped_column(ForeignKey("vocal_styles.id"))
    release_year: Mapped[int | None] = mapped_column(Integer)
    release_month: Mapped[int | None] = mapped_column(Integer)
    release_day: Mapped[int | None] = mapped_column(Integer)
    release_precision: Mapped[str] = mapped_column(String(10))
    release_sort: Mapped[str] = mapped_column(String(10))  # "2025-03-00": sorts with precision
    release_text: Mapped[str] = mapped_column(String(200))
    spotify_id: Mapped[str | None] = mapped_column(String(40))
    spotify_url: Mapped[str | None] = mapped_column(String(1000))
    location: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(100))
    album_type: Mapped[str | None] = mapped_column(String(100))
    links: Mapped[dict | None] = mapped_column(JSON)
    debut: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reissue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sheet_row: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The digest of the sheet row the album was last read from (see row_digests); None for
    # an album listed in several tabs, or stored before migration 0006.
    row_digest: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_sync_id: Mapped[int | None] = mapped_column(Integer)

    artist: Mapped[Artist] = relationship(lazy="raise")
    vocal_style: Mapped[VocalStyle | None] = relationship(lazy="raise")

    __table_args__ = (
        # Browsing newest first among the albums still in the sheet.
        Index("ix_albums_browse", "removed_at", "release_sort", "id"),  # scanned backwards
        Index("ix_albums_country", "country", "removed_at"),
        Index("ix_albums_album_type", "album_type", "removed_at"),
        Index("ix_albums_debut", "debut", "removed_at"),
        Index("ix_albums_vocal_style", "vocal_style_id", "removed_at"),
        Index("ix_albums_year", "release_year", "removed_at"),
        Index("ix_albums_artist", "artist_id"),
    )


class ResultCountColumns:
    """The columns of `counters.ResultCounts`, for the live operation and the result (ORM
    columns need declaring; tests/test_counters.py checks the two lists match)."""

    total: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class SyncOperation(ResultCountColumns, Base):
    """Live progress of one sync run.

    `active_slot` is 1 while the operation is pending or running and NULL afterwards; its
    unique index lets the database itself refuse a second active sync (NULLs never collide),
    so exclusivity holds across threads, processes and hosts without check-then-insert.
    """

    __tablename__ = "sync_operations"
    id: Mapped[int] = mapped_column(primary_key=True)
    active_slot: Mapped[int | None] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(30))
    stage: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(500), default="")
    processed: Mapped[int] = mapped_column(Integer, default=0)
    announced: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warnings: Mapped[list | None] = mapped_column(JSON)  # texts: header drift, skipped tabs
    worksheets: Mapped[list | None] = mapped_column(JSON)  # per-tab figures (sync.TabReport)
    triggered_by: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    force: Mapped[bool] = mapped_column(Boolean, default=False)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # How it was started: "dashboard", "cli", "schedule" (NULL: through the API, or before
    # these were recorded). `awaiting_worker`: claimed by a dashboard in worker mode, and not
    # yet taken by a worker.
    trigger: Mapped[str | None] = mapped_column(String(30))
    awaiting_worker: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    run_by_worker: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A preview (dry run): reads and plans, writes only its change log (what it would do).
    preview: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A force confirmed from the page for this many removals: it removes no more than that.
    confirmed_removals: Mapped[int | None] = mapped_column(Integer)
    # Drive's modifiedTime of the sheet when the sync began, with a fingerprint of the read
    # settings (see unchanged.py); None when not asked or Drive did not answer.
    sheet_modified: Mapped[str | None] = mapped_column(String(60))


class SyncWorker(Base):
    """A running `synccore worker`: its heartbeat and schedule, for the page and the check."""

    __tablename__ = "sync_workers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    schedule: Mapped[str | None] = mapped_column(String(200))  # as configured
    runs_dashboard_syncs: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class ScheduledRun(Base):
    """One row per scheduled due time: the primary key makes the database pick the one worker
    that acts on it, so several workers run each due time once."""

    __tablename__ = "scheduled_runs"
    scheduled_for: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    worker_id: Mapped[str] = mapped_column(String(64))
    operation_id: Mapped[int | None] = mapped_column(Integer)  # None: skipped (a sync was active)
    note: Mapped[str] = mapped_column(String(500), default="")


class SentNotification(Base):
    """A notification event, recorded before it is sent: the unique key makes each event go
    out once, whichever and however many processes notice it."""

    __tablename__ = "sent_notifications"
    event_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    operation_id: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class SyncResult(ResultCountColumns, Base):
    """The outcome of a finished sync, for history; written once when the sync ends."""

    __tablename__ = "sync_results"
    operation_id: Mapped[int] = mapped_column(
        ForeignKey("sync_operations.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    triggered_by: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    duration_seconds: Mapped[float] = mapped_column(Float)
    announced: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warnings: Mapped[list | None] = mapped_column(JSON)
    worksheets: Mapped[list | None] = mapped_column(JSON)
    preview: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    force: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sheet_modified: Mapped[str | None] = mapped_column(String(60))


class SyncRowError(Base):
    """A sheet row that could not be synced, with its row number, reason and raw values."""

    __tablename__ = "sync_row_errors"
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(
        ForeignKey("sync_operations.id", ondelete="CASCADE"), index=True
    )
    sheet_row: Mapped[int] = mapped_column(Integer)
    worksheet: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    reason: Mapped[str] = mapped_column(String(500))
    raw_values: Mapped[list] = mapped_column(JSON)


class AlbumChange(Base):
    """What one sync changed in one album (or, for a preview, would change): `change` is
    created, updated, removed, restored, or "initial_load" (one entry for a first sync into an
    empty catalog, `count` albums, no album); `fields` maps a field to [old, new]."""

    __tablename__ = "album_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(
        ForeignKey("sync_operations.id", ondelete="CASCADE"), index=True
    )
    album_id: Mapped[int | None] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(20))
    artist: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    title: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    fields: Mapped[dict | None] = mapped_column(JSON)
    count: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_album_changes_album", "album_id", "operation_id"),)
