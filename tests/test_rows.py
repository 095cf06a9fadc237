"""Pure row processing: headers, dates, Spotify links, keys, skipped and reported rows."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synccore.errors import ConfigurationError, HeaderNotFound
from synccore.rows import (
    TRUNCATED,
    AlbumRow,
    RowError,
    album_key,
    find_header,
    normalize_name,
    parse_release_date,
    parse_row,
    spotify_album_id,
)
from synccore.sources.base import RawRow

from .support.albums import HEADER

ALBUM_ID = "4aawyAB9vmqN3uQ7FjRGTy"


def rows(*values_list) -> list[RawRow]:
    return [RawRow(n, tuple(v)) for n, v in enumerate(values_list, start=1)]


def header_columns(header=HEADER):
    columns, _ = find_header(rows(header))
    return columns


# -- header ------------------------------------------------------------------------------


def test_header_below_a_title_row_is_found():
    columns, index = find_header(rows(["2025 Metal Releases"], [], HEADER, ["x"]))
    assert index == 2
    assert (columns.release_date, columns.artist, columns.album, columns.spotify) == (0, 1, 2, 6)


def test_headers_match_case_and_space_insensitively_with_aliases():
    columns, _ = find_header(rows(["  BAND ", "album name", "Vocals", "RELEASE   date", "Link"]))
    assert (
        columns.artist,
        columns.album,
        columns.vocal_style,
        columns.release_date,
        columns.spotify,
    ) == (0, 1, 2, 3, 4)


def test_unmistakable_name_beats_a_generic_one():
    columns, _ = find_header(rows(["Title", "Artist", "Album", "Link", "Spotify"]))
    assert (columns.album, columns.spotify) == (2, 4)


def test_configured_mapping_wins():
    columns, _ = find_header(rows(["Who", "What", "Band"]), {"Who": "artist", "What": "Album"})
    assert (columns.artist, columns.album) == (0, 1)


def test_mapping_to_an_unknown_field_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match='points to "price"'):
        find_header(rows(HEADER), {"Cost": "price"})


def test_missing_header_says_what_was_found_and_how_to_fix():
    with pytest.raises(HeaderNotFound) as caught:
        find_header(rows(["Releases"], ["Date", "Band", "Genre"]))
    message = str(caught.value)
    assert "Row 2 looks closest: it has Release Date, Artist, Genre but no Album column." in message
    assert 'row 1: "Releases"' in message
    assert "SYNCCORE_HEADER_ALIASES" in message


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell, expected",
    [
        (45730, (2025, 3, 14, "day")),  # a date cell's serial number
        (45730.75, (2025, 3, 14, "day")),  # with a time of day
        ("2025-03-14", (2025, 3, 14, "day")),
        ("2025-03", (2025, 3, None, "month")),
        ("March 2025", (2025, 3, None, "month")),
        ("Mar 14, 2025", (2025, 3, 14, "day")),
        ("14 March 2025", (2025, 3, 14, "day")),
        ("14/03/2025", (2025, 3, 14, "day")),
        ("03/14/2025", (2025, 3, 14, "day")),
        ("03/04/2025", (2025, None, None, "year")),  # day or month first? only the year is sure
        ("2025", (2025, None, None, "year")),
        (2025, (2025, None, None, "year")),
        ("Q2 2025", (2025, None, None, "year")),
        ("TBA", (None, None, None, "unknown")),
        ("", (None, None, None, "unknown")),
        (None, (None, None, None, "unknown")),
        ("2025-02-30", (2025, None, None, "year")),  # no such day: the year is still sure
    ],
)
def test_release_dates_keep_their_precision(cell, expected):
    d = parse_release_date(cell)
    assert (d.year, d.month, d.day, d.precision) == expected


def test_unknown_date_keeps_its_text():
    assert parse_release_date("  TBA  ").display == "TBA"
    assert parse_release_date("March 2025").display == "March 2025"


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=True), st.booleans(), st.none()))
def test_any_cell_parses_without_raising(cell):
    d = parse_release_date(cell)
    assert d.precision in {"day", "month", "year", "unknown"}
    assert len(d.text) <= 200


# -- Spotify links and keys --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"https://open.spotify.com/album/{ALBUM_ID}",
        f"https://open.spotify.com/album/{ALBUM_ID}?si=abc",
        f"https://open.spotify.com/intl-de/album/{ALBUM_ID}",
        f"open.spotify.com/album/{ALBUM_ID}",
        f"spotify:album:{ALBUM_ID}",
    ],
)
def test_spotify_album_ids_from_urls_and_uris(text):
    assert spotify_album_id(text) == ALBUM_ID


@pytest.mark.parametrize(
    "text",
    [
        f"https://open.spotify.com/track/{ALBUM_ID}",
        "https://bandcamp.com/album/x",
        "Listen",
        "",
        None,
        f"https://open.spotify.com/album/{ALBUM_ID}x",
    ],
)
def test_non_album_links_have_no_id(text):
    assert spotify_album_id(text) is None


def test_key_is_the_spotify_id_or_the_folded_names():
    assert album_key(ALBUM_ID, "x", "y") == "spotify:" + ALBUM_ID
    row = parse_row(RawRow(2, ("2025", "  The   BAND ", "Ｆｉｒｓｔ Album")), header_columns())
    assert row.key == album_key(None, "the band", "first album") == "name:the band\x1ffirst album"
    assert normalize_name("Straße") == "strasse"


def test_hyperlink_on_listen_text_gives_the_id_and_key():
    raw = RawRow(
        5,
        ("2025", "Ghost Bath", "Moonlover", "", "", "", "Listen"),
        {6: f"https://open.spotify.com/album/{ALBUM_ID}?si=q"},
    )
    album = parse_row(raw, header_columns())
    assert album.spotify_id == ALBUM_ID and album.key == "spotify:" + ALBUM_ID
    assert album.spotify_url == f"https://open.spotify.com/album/{ALBUM_ID}"


def test_other_site_link_is_kept_without_an_id():
    raw = RawRow(
        5, ("2025", "Ghost Bath", "Moonlover", "", "", "", "https://band.bandcamp.com/album/a")
    )
    album = parse_row(raw, header_columns())
    assert album.spotify_id is None and album.spotify_url == "https://band.bandcamp.com/album/a"
    assert album.key == "name:ghost bath\x1fmoonlover"


# -- rows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values", [(), ("", "  ", ""), ("JANUARY",), ("", "— Q1 2025 —"), ("", "Artist", "Album")]
)
def test_blank_section_and_repeated_header_rows_are_skipped_quietly(values):
    assert parse_row(RawRow(9, values), header_columns()) is None


def test_ragged_row_without_trailing_cells_is_an_album():
    album = parse_row(RawRow(4, ("2025-01-10", "Ghost Bath", "Moonlover")), header_columns())
    assert isinstance(album, AlbumRow)
    assert (album.genres, album.location, album.spotify_url) == ((), None, None)


@pytest.mark.parametrize(
    "values, reason",
    [
        (("2025", "", "Album", "Doom"), "Missing artist name"),
        (("2025-03-14", "Band", "", "Doom"), "Missing album name"),
        (("2025", "", "", "Doom"), "Missing artist and album name"),
        (
            ("2025", "B" * 501, "Album"),
            "Artist name is longer than 500 characters (501); shorten it in the sheet",
        ),
    ],
)
def test_incomplete_rows_are_reported_with_row_number_reason_and_values(values, reason):
    error = parse_row(RawRow(12, values), header_columns())
    assert isinstance(error, RowError)
    assert (error.row_number, error.reason) == (12, reason)
    # a cut cell carries the marker, so nobody takes it for the sheet's text
    assert error.values[:2] == tuple(
        v if len(v) <= 500 else v[:500] + TRUNCATED for v in values[:2]
    )


def test_content_hash_ignores_the_row_position_but_not_the_content():
    columns = header_columns()
    a = parse_row(RawRow(4, ("2025", "Ghost Bath", "Moonlover", "Doom")), columns)
    moved = parse_row(RawRow(90, ("2025", "Ghost Bath", "Moonlover", "Doom")), columns)
    edited = parse_row(RawRow(4, ("2025", "Ghost Bath", "Moonlover", "Sludge")), columns)
    assert a.content_hash == moved.content_hash != edited.content_hash
