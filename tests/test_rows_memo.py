"""The per-cell memos of row parsing: same answers as without them, bounded, thread-safe."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from synccore import rows
from synccore.rows import (
    MEMO_TEXT_LENGTH,
    NAME_LENGTH,
    AlbumRow,
    find_header,
    normalize_name,
    parse_row,
    split_genres,
)
from synccore.sources.base import RawRow

from .support.albums import HEADER

COLUMNS, _ = find_header([RawRow(1, tuple(HEADER))])
MEMOS = (rows._genre_memo, rows._vocal_style_memo, rows._parse_release_cached)

cell_texts = st.one_of(
    st.sampled_from(
        [
            "",
            "  ",
            "Prog Metal, Djent",
            "prog metal; PROG  METAL, Djent,,",
            "Atmospheric/Post-Black metal",
            "Ｐｒｏｇ, Straße",
            "Harsh\x00 Vocals",
            "\ud800Clean",
            "x" * (NAME_LENGTH + 1),
            "Doom, " + "y" * MEMO_TEXT_LENGTH,
            "2025-03-14",
            "TBA",
        ]
    ),
    st.text(max_size=30),
)
cells = st.one_of(cell_texts, st.integers(), st.floats(), st.booleans(), st.none())


def _uncached(memo, value):
    return memo.__wrapped__(value)


@settings(max_examples=300, deadline=None)
@given(date=cells, genre=cells, vocals=cells)
def test_a_memoised_parse_equals_an_uncached_one(date, genre, vocals):
    raw = RawRow(7, (date, "Ghost Bath", "Moonlover", genre, vocals, "Tampa, FL"))
    vocals_text = rows._cell_text(vocals)
    for memo in MEMOS:
        memo.cache_clear()
    cold, warm = parse_row(raw, COLUMNS), parse_row(raw, COLUMNS)
    with mock.patch.object(rows, "_by_cell", _uncached):
        uncached = parse_row(raw, COLUMNS)
    assert cold == warm == uncached
    if isinstance(cold, AlbumRow):  # and as parse_row read them before the memos
        assert (cold.genres, cold.genre_keys) == split_genres(rows._cell_text(genre) or None)
        assert cold.vocal_style == (rows._cell_text(vocals) or None)
        assert cold.vocal_style_key == (normalize_name(vocals_text) if vocals_text else None)


def test_cells_equal_in_python_but_not_in_the_sheet_are_kept_apart():
    # True == 1 == 1.0 in Python; the sheet shows them as "TRUE", "1" and "1".
    assert rows._by_cell(rows._genre_memo, 1)[0] == ("1",)
    assert rows._by_cell(rows._genre_memo, True)[0] == ("TRUE",)
    assert rows._by_cell(rows._vocal_style_memo, True)[:2] == ("TRUE", "true")
    assert rows._by_cell(rows._vocal_style_memo, 1.0)[:2] == ("1", "1")


def test_memos_stay_bounded_and_pass_over_long_and_unhashable_cells():
    memo = rows._genre_memo
    memo.cache_clear()
    size = memo.cache_info().maxsize
    for n in range(size + 50):
        rows._by_cell(memo, f"Genre {n}, Doom")
    assert memo.cache_info().currsize == size
    long_cell = "Doom, " + "x" * MEMO_TEXT_LENGTH
    assert rows._by_cell(memo, long_cell) == rows._genre_cell(long_cell)
    assert rows._by_cell(memo, ["Doom"]) == rows._genre_cell(["Doom"])  # unhashable: no raise
    assert memo.cache_info().currsize == size
    assert rows._by_cell(memo, f"Genre {size + 49}, Doom") == (
        (f"Genre {size + 49}", "Doom"),
        (f"genre {size + 49}", "doom"),
        None,
    )


def test_rows_parsed_on_several_threads_match_one_thread():
    raws = [
        RawRow(n, ("2025", f"Artist {n}", f"Album {n}", f"Doom, Genre {n % 7}", f"V{n % 3}"))
        for n in range(2, 602)
    ]
    for memo in MEMOS:
        memo.cache_clear()
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda raw: parse_row(raw, COLUMNS), raws))
    assert threaded == [parse_row(raw, COLUMNS) for raw in raws]
    assert all(isinstance(row, AlbumRow) for row in threaded)


def test_a_spotify_cell_linking_elsewhere_keeps_its_link():
    # _links leaves the Spotify column to _spotify, which must still keep another site's URL.
    raw = RawRow(
        5,
        ("2025", "Ghost Bath", "Moonlover", "", "", "", "Listen"),
        {6: "https://ghostbath.bandcamp.com/album/moonlover"},
    )
    album = parse_row(raw, COLUMNS)
    assert album.spotify_id is None
    assert album.links == (("spotify", "https://ghostbath.bandcamp.com/album/moonlover"),)
