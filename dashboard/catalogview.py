"""The Catalog page's data: one page of albums at a time, cached until the next sync ends.

Caches are keyed on `catalog_version()` (it changes whenever a sync finishes), so a page
shows the new data after a sync without a reload, and never loads the whole catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from synccore import FIELD_LABELS, AlbumFilter, AlbumPage, AlbumView, CatalogFacets, CatalogSync

PAGE_SIZES = (25, 50, 100, 200)
SPOTIFY_PREFIX = "https://open.spotify.com/"


@st.cache_data(max_entries=32, show_spinner=False)
def cached_facets(fingerprint: str, version: int, _sync: CatalogSync) -> CatalogFacets:
    """Filter choices; `fingerprint` and `version` are the cache key (the service is not)."""
    return _sync.facets()


@st.cache_data(max_entries=256, show_spinner="Loading albums...")
def cached_albums(
    fingerprint: str,
    version: int,
    filters: AlbumFilter,
    limit: int,
    offset: int,
    _sync: CatalogSync,
) -> AlbumPage:
    return _sync.albums(filters, limit=limit, offset=offset)


def page_count(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def showing_caption(total: int, page: int, page_size: int) -> str:
    """'Showing 51-100 of 2,987 albums'."""
    if total == 0:
        return "No albums match these filters."
    first = (page - 1) * page_size + 1
    last = min(total, page * page_size)
    noun = "album" if total == 1 else "albums"
    return f"Showing {first:,}-{last:,} of {total:,} {noun}, newest first."


def spotify_url(url: str | None) -> str | None:
    return url if url and url.startswith(SPOTIFY_PREFIX) else None


def other_url(url: str | None) -> str | None:
    """A link to another site, kept only if it is plain http(s)."""
    if not url or url.startswith(SPOTIFY_PREFIX):
        return None
    return url if url.lower().startswith(("https://", "http://")) else None


def link_label(service: str) -> str:
    return FIELD_LABELS.get(service) or service.replace("_", " ").title()


def safe_links(album: AlbumView) -> dict[str, str]:
    """The album's links that are plain http(s), labelled for people, in a stable order."""
    known = [s for s in FIELD_LABELS if s in album.links]  # the tracker's column order
    others = sorted(s for s in album.links if s not in FIELD_LABELS)
    return {
        link_label(s): album.links[s]
        for s in known + others
        if album.links[s].lower().startswith(("https://", "http://"))
    }


def genre_choice(name: str, counts: dict[str, int]) -> str:
    """ "Djent (1,234)" for the genre filter's list."""
    return f"{name} ({counts.get(name, 0):,})"


def albums_frame(items: Sequence[AlbumView], *, show_removed: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "Release": [a.release for a in items],
            "Artist": [a.artist for a in items],
            "Album": [a.title for a in items],
            "Type": [a.album_type or "" for a in items],
            "Genres": [", ".join(a.genres) for a in items],
            "Vocal style": [a.vocal_style or "" for a in items],
            "Location": [a.location or "" for a in items],
            "Debut": [a.debut for a in items],
            "Spotify": [spotify_url(a.spotify_url) for a in items],
        }
    )
    for service in ("bandcamp", "youtube", "apple_music", "amazon", "google_play"):
        column = [a.links.get(service) for a in items]
        if any(column):
            frame[link_label(service)] = [
                u if u and u.lower().startswith(("https://", "http://")) else None for u in column
            ]
    links = [other_url(a.spotify_url) for a in items]
    if any(links):
        frame["Other link"] = links
    if show_removed:
        frame["Removed"] = [a.removed for a in items]
    return frame


COLUMN_CONFIG = {
    "Release": st.column_config.TextColumn(width="small"),
    "Artist": st.column_config.TextColumn(width="medium"),
    "Album": st.column_config.TextColumn(width="medium"),
    "Spotify": st.column_config.LinkColumn(display_text="Open in Spotify", width="medium"),
    "Other link": st.column_config.LinkColumn(width="medium"),
    "Type": st.column_config.TextColumn(width="small"),
    "Debut": st.column_config.CheckboxColumn(help="A debut album (orange in the sheet)"),
    **{
        link_label(s): st.column_config.LinkColumn(display_text="Open", width="small")
        for s in ("bandcamp", "youtube", "apple_music", "amazon", "google_play")
    },
    "Removed": st.column_config.CheckboxColumn(help="No longer in the sheet", width="small"),
}
