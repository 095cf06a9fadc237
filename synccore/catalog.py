"""Read-side queries over the catalog: one page of albums at a time, and the filter choices.

Pages are fetched with LIMIT/OFFSET over the browse index, so a million-album catalog costs
the dashboard one small query, never a full load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from .models import Album, AlbumGenre, AlbumWorksheet, Artist, Genre, VocalStyle, Worksheet
from .rows import ReleaseDate, normalize_name
from .status import as_utc


@dataclass(frozen=True)
class AlbumFilter:
    """What the Catalog page filters on; empty means no filter. Several values of one filter
    match any of them (an album with any of the genres)."""

    search: str = ""
    genres: tuple[str, ...] = ()
    vocal_styles: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    album_types: tuple[str, ...] = ()
    worksheets: tuple[str, ...] = ()
    debut_only: bool = False
    include_removed: bool = False
    removed_only: bool = False  # only albums no longer in the sheet


SPOTIFY_EMBED = "https://open.spotify.com/embed/album/"


@dataclass(frozen=True)
class AlbumView:
    id: int
    title: str
    artist: str
    genres: tuple[str, ...]
    vocal_style: str | None
    location: str | None
    country: str | None
    album_type: str | None
    release: str  # for display: "2025-03-14", "March 2025", "2025", "TBA"
    release_year: int | None
    spotify_id: str | None
    spotify_url: str | None
    links: dict[str, str]  # service -> URL
    worksheets: tuple[str, ...]
    debut: bool
    reissue: bool
    removed: bool
    updated_at: datetime

    @property
    def spotify_embed_url(self) -> str | None:
        """Spotify's embedded player for the album, when its Spotify id is known."""
        return SPOTIFY_EMBED + self.spotify_id if self.spotify_id else None

    def to_json(self) -> dict:
        data = dict(self.__dict__)
        data["genres"] = list(self.genres)
        data["worksheets"] = list(self.worksheets)
        data["links"] = dict(self.links)
        data["updated_at"] = self.updated_at.isoformat()
        return data


@dataclass(frozen=True)
class AlbumPage:
    items: list[AlbumView]
    total: int  # albums matching the filter, over all pages


@dataclass(frozen=True)
class CatalogFacets:
    genres: list[str] = field(default_factory=list)
    genre_counts: dict[str, int] = field(default_factory=dict)  # albums in the catalog
    vocal_styles: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    album_types: list[str] = field(default_factory=list)
    worksheets: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    albums: int = 0


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


def _listing(
    link: type[AlbumGenre | AlbumWorksheet],
    named_id: InstrumentedAttribute[int],
    named: type[Genre | Worksheet],
    names: tuple[str, ...],
) -> Select:
    """Ids of the albums `link` ties to a `named` row (by `named_id`) with one of `names`."""
    return select(link.album_id).join(named, named.id == named_id).where(named.name.in_(names))


def _filtered(query: Select, f: AlbumFilter) -> Select:
    if f.removed_only:
        query = query.where(Album.removed_at.is_not(None))
    elif not f.include_removed:
        query = query.where(Album.removed_at.is_(None))
    if f.search.strip():
        query = query.where(search_condition(f.search))
    if f.genres:
        query = query.where(
            Album.id.in_(_listing(AlbumGenre, AlbumGenre.genre_id, Genre, f.genres))
        )
    if f.worksheets:
        query = query.where(
            Album.id.in_(
                _listing(AlbumWorksheet, AlbumWorksheet.worksheet_id, Worksheet, f.worksheets)
            )
        )
    if f.vocal_styles:
        query = query.where(VocalStyle.name.in_(f.vocal_styles))
    if f.countries:
        query = query.where(Album.country.in_(f.countries))
    if f.album_types:
        query = query.where(Album.album_type.in_(f.album_types))
    if f.debut_only:
        query = query.where(Album.debut.is_(True))
    if f.years:
        query = query.where(Album.release_year.in_(f.years))
    return query


def _joined(query: Select, f: AlbumFilter | None = None) -> Select:
    """Join the lookup tables; with a filter, only those it names (a count over a million
    albums is 30 times faster without joins it does not need: every album has an artist, and
    the other joins are outer, so leaving them out changes no count)."""
    if f is None or f.search.strip():
        query = query.join(Artist, Album.artist_id == Artist.id)
    if f is None or f.vocal_styles:
        query = query.outerjoin(VocalStyle, Album.vocal_style_id == VocalStyle.id)
    return query


def _names_by_album(session: Session, ids: list[int], link, lookup) -> dict[int, tuple[str, ...]]:
    """album id -> names of its genres (or tabs), in their stored order."""
    found: dict[int, list[str]] = {}
    if not ids:
        return {}
    rows = session.execute(
        select(link.album_id, lookup.name)
        .join(lookup, lookup.id == (link.genre_id if link is AlbumGenre else link.worksheet_id))
        .where(link.album_id.in_(ids))
        .order_by(link.album_id, link.position)
    )
    for album_id, name in rows:
        found.setdefault(album_id, []).append(name)
    return {k: tuple(v) for k, v in found.items()}


def query_albums(session: Session, f: AlbumFilter, limit: int = 50, offset: int = 0) -> AlbumPage:
    """Newest first; the count and the page are two indexed queries, then the page's genres
    and tabs (two small queries over its ids)."""
    columns = (
        Album.id,
        Album.title,
        Artist.name,
        VocalStyle.name,
        Album.location,
        Album.country,
        Album.album_type,
        Album.release_year,
        Album.release_month,
        Album.release_day,
        Album.release_text,
        Album.spotify_id,
        Album.spotify_url,
        Album.links,
        Album.debut,
        Album.reissue,
        Album.removed_at,
        Album.updated_at,
        Album.release_precision,
    )
    page = session.execute(
        _filtered(_joined(select(*columns).select_from(Album)), f)
        .order_by(Album.release_sort.desc(), Album.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.scalar(_filtered(_joined(select(func.count()).select_from(Album), f), f)) or 0
    ids = [r[0] for r in page]
    genres = _names_by_album(session, ids, AlbumGenre, Genre)
    tabs = _names_by_album(session, ids, AlbumWorksheet, Worksheet)
    items = [
        AlbumView(
            id=r[0],
            title=r[1],
            artist=r[2],
            genres=genres.get(r[0], ()),
            vocal_style=r[3],
            location=r[4],
            country=r[5],
            album_type=r[6],
            release=ReleaseDate(r[7], r[8], r[9], r[18], r[10] or "").display,
            release_year=r[7],
            spotify_id=r[11],
            spotify_url=r[12],
            links=dict(r[13] or {}),
            worksheets=tabs.get(r[0], ()),
            debut=bool(r[14]),
            reissue=bool(r[15]),
            removed=r[16] is not None,
            updated_at=as_utc(r[17]),
        )
        for r in page
    ]
    return AlbumPage(items=items, total=total)


def _distinct(session: Session, column, most: int = 2_000) -> list:
    """The distinct values of an indexed column among albums still in the sheet, sorted.

    One index probe per value ("the first value after the last one found") rather than a
    DISTINCT over every album: a country or album type has a few hundred values at most, and
    a million-album catalog would otherwise be read whole on every first render.
    """
    values: list = []
    after = None
    probe = select(column).where(column.is_not(None)).order_by(column).limit(1)
    while len(values) < most:
        # Two probes of the (column, removed_at) index: the next value, then whether an album
        # still in the sheet has it (with removed_at in the first one, planners pick the
        # removed_at index and sort every album).
        after = session.scalar(probe.where(column > after) if after is not None else probe)
        if after is None:
            break
        live = select(Album.id).where(column == after, Album.removed_at.is_(None)).limit(1)
        if session.scalar(live) is not None:
            values.append(after)
    return values


def catalog_facets(session: Session) -> CatalogFacets:
    """The filter choices: small lookup tables, distinct values, and albums per genre."""
    active = Album.removed_at.is_(None)
    counts = dict(session.execute(select(Genre.name, Genre.albums).where(Genre.albums > 0)).all())
    return CatalogFacets(
        genres=sorted(counts, key=lambda name: (-counts[name], name.casefold())),
        genre_counts=counts,
        vocal_styles=list(session.scalars(select(VocalStyle.name).order_by(VocalStyle.name))),
        countries=_distinct(session, Album.country),
        album_types=_distinct(session, Album.album_type),
        worksheets=list(session.scalars(select(Worksheet.name).order_by(Worksheet.id))),
        years=_distinct(session, Album.release_year)[::-1],
        albums=session.scalar(select(func.count()).select_from(Album).where(active)) or 0,
    )
