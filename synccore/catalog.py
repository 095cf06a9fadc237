"""Read-side queries over the catalog: one page of albums at a time, and the filter choices.

Pages are fetched with LIMIT/OFFSET over the browse index, so a million-album catalog costs
the dashboard one small query, never a full load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from .models import Album, Artist, Genre, VocalStyle
from .rows import normalize_name
from .status import as_utc

MONTHS = (
    "January February March April May June July August September October November December"
).split()


@dataclass(frozen=True)
class AlbumFilter:
    """What the Catalog page filters on; empty means no filter."""

    search: str = ""
    genres: tuple[str, ...] = ()
    vocal_styles: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    include_removed: bool = False


@dataclass(frozen=True)
class AlbumView:
    id: int
    title: str
    artist: str
    country: str | None
    genre: str | None
    vocal_style: str | None
    release: str  # for display: "2025-03-14", "March 2025", "2025", "TBA"
    release_year: int | None
    spotify_url: str | None
    removed: bool
    updated_at: datetime

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["updated_at"] = self.updated_at.isoformat()
        return data


@dataclass(frozen=True)
class AlbumPage:
    items: list[AlbumView]
    total: int  # albums matching the filter, over all pages


@dataclass(frozen=True)
class CatalogFacets:
    genres: list[str] = field(default_factory=list)
    vocal_styles: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    albums: int = 0


def display_release(year: int | None, month: int | None, day: int | None, text: str) -> str:
    if year and month and day:
        return f"{year:04d}-{month:02d}-{day:02d}"
    if year and month:
        return f"{MONTHS[month - 1]} {year}"
    if year:
        return str(year)
    return text or "TBA"


def search_condition(text: str) -> ColumnElement[bool]:
    """Albums whose title or artist contains `text`, literally and ignoring case.

    Both sides are in rows.normalize_name's form (NFKC, Unicode case folding, spaces
    collapsed): the stored `Album.title_key` and `Artist.name_key`, and the search text folded
    here in Python. So "große" finds "Große Nacht" and "ÅNGEST" finds "Ångest" with the same
    results on SQLite (whose lower() and LIKE fold ASCII only) and PostgreSQL, and the scan
    costs no per-row function call (a Python function registered on SQLite connections would
    run for each of a million albums on every search and count, and PostgreSQL would need its
    own). `%`, `_` and the escape character match themselves.
    NUL is dropped, as it is from sheet text (PostgreSQL refuses it in a query).
    """
    term = normalize_name(text.replace("\x00", ""))
    return or_(
        Album.title_key.contains(term, autoescape=True),
        Artist.name_key.contains(term, autoescape=True),
    )


def _filtered(query: Select, f: AlbumFilter) -> Select:
    if not f.include_removed:
        query = query.where(Album.removed_at.is_(None))
    if f.search.strip():
        query = query.where(search_condition(f.search))
    if f.genres:
        query = query.where(Genre.name.in_(f.genres))
    if f.vocal_styles:
        query = query.where(VocalStyle.name.in_(f.vocal_styles))
    if f.countries:
        query = query.where(Artist.country.in_(f.countries))
    if f.years:
        query = query.where(Album.release_year.in_(f.years))
    return query


def _joined(query: Select, f: AlbumFilter | None = None) -> Select:
    """Join the lookup tables; with a filter, only those it names (a count over a million
    albums is 30 times faster without joins it does not need: every album has an artist, and
    the other joins are outer, so leaving them out changes no count)."""
    if f is None or f.search.strip() or f.countries:
        query = query.join(Artist, Album.artist_id == Artist.id)
    if f is None or f.genres:
        query = query.outerjoin(Genre, Album.genre_id == Genre.id)
    if f is None or f.vocal_styles:
        query = query.outerjoin(VocalStyle, Album.vocal_style_id == VocalStyle.id)
    return query


def query_albums(session: Session, f: AlbumFilter, limit: int = 50, offset: int = 0) -> AlbumPage:
    """Newest first; the count and the page are two indexed queries."""
    columns = (
        Album.id,
        Album.title,
        Artist.name,
        Artist.country,
        Genre.name,
        VocalStyle.name,
        Album.release_year,
        Album.release_month,
        Album.release_day,
        Album.release_text,
        Album.spotify_url,
        Album.removed_at,
        Album.updated_at,
    )
    page = session.execute(
        _filtered(_joined(select(*columns).select_from(Album)), f)
        .order_by(Album.release_sort.desc(), Album.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.scalar(_filtered(_joined(select(func.count()).select_from(Album), f), f)) or 0
    items = [
        AlbumView(
            id=r[0],
            title=r[1],
            artist=r[2],
            country=r[3],
            genre=r[4],
            vocal_style=r[5],
            release=display_release(r[6], r[7], r[8], r[9]),
            release_year=r[6],
            spotify_url=r[10],
            removed=r[11] is not None,
            updated_at=as_utc(r[12]),
        )
        for r in page
    ]
    return AlbumPage(items=items, total=total)


def catalog_facets(session: Session) -> CatalogFacets:
    """The filter choices: small lookup tables, plus distinct years and countries."""
    active = Album.removed_at.is_(None)
    return CatalogFacets(
        genres=list(session.scalars(select(Genre.name).order_by(Genre.name))),
        vocal_styles=list(session.scalars(select(VocalStyle.name).order_by(VocalStyle.name))),
        countries=list(
            session.scalars(
                select(Artist.country)
                .distinct()
                .where(Artist.country.is_not(None))
                .order_by(Artist.country)
            )
        ),
        years=list(
            session.scalars(
                select(Album.release_year)
                .distinct()
                .where(active, Album.release_year.is_not(None))
                .order_by(Album.release_year.desc())
            )
        ),
        albums=session.scalar(select(func.count()).select_from(Album).where(active)) or 0,
    )
