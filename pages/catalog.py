"""Catalog: the albums, newest first, filtered and searched one page at a time."""

from __future__ import annotations

import streamlit as st

from dashboard.catalogview import (
    COLUMN_CONFIG,
    PAGE_SIZES,
    albums_frame,
    cached_albums,
    cached_facets,
    genre_choice,
    page_count,
    safe_links,
    showing_caption,
)
from dashboard.context import open_dashboard, problems_shown, settings_fingerprint
from dashboard.csvexport import render_csv_download
from dashboard.follow import follow_active_sync, watch_for_new_sync
from dashboard.text import plain
from synccore import AlbumFilter, AlbumView

ROW_HEIGHT = 35
FILTER_WIDTH = 160  # px: two to a row on a 390 px phone
GENRE_WIDTH = 336  # px: a row of its own on a phone
NAMES = ("Artist", "Album")


def album_details(album: AlbumView) -> None:
    with st.container(border=True, key="album-details"):
        st.markdown(f"### {plain(album.title)}")
        kind = album.album_type + (" · debut" if album.debut else "") if album.album_type else ""
        if album.reissue:
            kind = (kind + " · " if kind else "") + "reissue / special release"
        facts = [album.artist, album.release, kind, album.vocal_style, album.location]
        st.markdown(plain(" · ".join(f for f in facts if f)))
        if album.genres:
            st.markdown(plain("Genres: " + ", ".join(album.genres)))
        if album.worksheets:
            st.caption(plain("In the sheet's tabs: " + ", ".join(album.worksheets)))
        if album.removed:
            st.caption("This album is no longer in the sheet.")
        links = safe_links(album)
        if links:
            for column, (label, url) in zip(st.columns(len(links)), links.items(), strict=True):
                column.link_button(label, url, icon=":material/open_in_new:")
        else:
            st.caption("No links in the sheet for this album.")
        if album.spotify_embed_url:
            st.iframe(album.spotify_embed_url, height=352)


dash = open_dashboard()
fingerprint = settings_fingerprint(dash.settings)
st.title("Catalog", anchor=False)

with problems_shown():
    status = dash.sync.current_status()
    version = dash.sync.catalog_version()
    facets = cached_facets(fingerprint, version, dash.sync)
follow_active_sync(status, "The catalog")
watch_for_new_sync(dash.sync, status)

if facets.albums == 0:
    why = (
        "no sync has run yet"
        if version == 0
        else "no sync has added albums yet (the **History** page says why)"
    )
    st.info(
        f"The catalog is empty: {why}. Open the **Sync** page and press **Sync Now** to "
        "fill it from the sheet.",
        icon=":material/inbox:",
    )
    st.stop()

search = st.text_input(
    "Search artist or album",
    placeholder="e.g. Frost Throne",
    key="catalog-search",
    icon=":material/search:",
)
# The filters wrap in one flowing row at fixed widths: five to a row on a wide screen, two on
# a phone (columns would stack them one per row there, pushing the albums a screen down).
filter_row = st.container(horizontal=True, vertical_alignment="bottom", key="catalog-filter-row")
genres = filter_row.multiselect(
    "Genre (any of)",
    facets.genres,
    format_func=lambda name: genre_choice(name, facets.genre_counts),
    key="catalog-genres",
    width=GENRE_WIDTH,
)
types = filter_row.multiselect("Type", facets.album_types, key="catalog-types", width=FILTER_WIDTH)
vocals = filter_row.multiselect(
    "Vocal style", facets.vocal_styles, key="catalog-vocals", width=FILTER_WIDTH
)
years = filter_row.multiselect("Year", facets.years, key="catalog-years", width=FILTER_WIDTH)
countries = filter_row.multiselect(
    "Country", facets.countries, key="catalog-countries", width=FILTER_WIDTH
)
tabs = filter_row.multiselect("Tab", facets.worksheets, key="catalog-tabs", width=FILTER_WIDTH)
page_size = filter_row.selectbox(
    "Albums per page", PAGE_SIZES, index=1, key="catalog-page-size", width=FILTER_WIDTH
)
debut_only = filter_row.toggle("Debuts only", key="catalog-debuts")
include_removed = filter_row.toggle("Include albums removed from the sheet", key="catalog-removed")

filters = AlbumFilter(
    search=search.strip(),
    genres=tuple(genres),
    vocal_styles=tuple(vocals),
    countries=tuple(countries),
    years=tuple(years),
    album_types=tuple(types),
    worksheets=tuple(tabs),
    debut_only=debut_only,
    include_removed=include_removed,
)
# A new filter starts at the first page: the pagination widget gets a new key (and so its
# default), rather than having its value overwritten through Session State.
if st.session_state.get("catalog-filters") != (filters, page_size):
    st.session_state["catalog-filters"] = (filters, page_size)
    st.session_state["catalog-view"] = st.session_state.get("catalog-view", 0) + 1
page_key = f"catalog-page-{st.session_state['catalog-view']}"

page = st.session_state.get(page_key, 1)
with problems_shown():
    result = cached_albums(
        fingerprint, version, filters, page_size, (page - 1) * page_size, dash.sync
    )
    pages = page_count(result.total, page_size)
    if page > pages:  # the catalog shrank under this page: show its last page
        page = pages
        st.session_state["catalog-view"] += 1
        page_key = f"catalog-page-{st.session_state['catalog-view']}"
        result = cached_albums(
            fingerprint, version, filters, page_size, (page - 1) * page_size, dash.sync
        )

st.caption(showing_caption(result.total, page, page_size))
if result.items:
    frame = albums_frame(result.items, show_removed=include_removed)
    event = st.dataframe(
        frame,
        hide_index=True,
        column_config=COLUMN_CONFIG,
        # Artist and album first: on a phone they are what fits before the table scrolls.
        column_order=["Artist", "Album", *(c for c in frame.columns if c not in NAMES)],
        height=min(len(result.items), 15) * ROW_HEIGHT + ROW_HEIGHT + 3,
        on_select="rerun",
        selection_mode="single-row",
        key="catalog-table",
        placeholder="",
    )
    st.pagination(pages, default=page, key=page_key, max_visible_pages=9)
    render_csv_download(
        frame,
        "Download this page (CSV)",
        file_name=f"catalog-page-{page}.csv",
        key="catalog-csv",
    )
    selected = event.selection.rows if event else []
    if selected and selected[0] < len(result.items):
        album_details(result.items[selected[0]])
    else:
        st.caption("Select a row to see the album's details, its links and Spotify's player.")
