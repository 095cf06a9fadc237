"""The real release tracker's row shapes, as pure parsing: headers, genre lists, locations,
album types, link columns, Length colors, announced untitled albums."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synccore.colorflags import MATCH_DISTANCE, color_flag, color_legend, parse_hex
from synccore.demo import OLD_TRACKER_HEADER, TRACKER_HEADER
from synccore.errors import ConfigurationError
from synccore.locations import country_of, normalize_mappings
from synccore.rows import (
    ANNOUNCED,
    AlbumRow,
    RowError,
    RowRules,
    drift_warnings,
    find_header,
    normalize_name,
    parse_row,
    split_genres,
    with_worksheets,
)
from synccore.sources.base import RawRow

STATS_BLOCK = [
    ["2025 Progressive Metal Albums"],
    ["Releases:", 2588, "", "LPs:", 1902],
    ["EPs:", 686, "", "Debuts:", 469],
    ["Collaborators: see the Discord", "", '=HYPERLINK("https://discord.gg/x", "Discord")'],
    [],
]
ALBUM_ID = "4aawyAB9vmqN3uQ7FjRGTy"
ORANGE, GREEN = (255, 186, 74), (150, 218, 119)


def tracker_columns(header=TRACKER_HEADER):
    raws = [RawRow(n, tuple(v)) for n, v in enumerate([*STATS_BLOCK, header], start=1)]
    columns, index = find_header(raws)
    assert index == len(STATS_BLOCK)
    return columns


def tracker_row(number=7, colors=None, links=None, **cells) -> RawRow:
    row = {
        "Artist": "Imperial Triumphant",
        "Album": "Goldstar",
        "Release Date": 45730,  # 2025-03-14 as a serial number
        "Length": "LP",
        "Genre / Subgenres": "Avant-Garde metal, Harsh Electronic, Djent",
        "Vocal Style": "Harsh",
        "Country / State": "New York City, NY",
        "Bandcamp": "BC",
        "Spotify": "S",
    }
    row.update({k.replace("_", " "): v for k, v in cells.items()})
    values = tuple(row.get(h, "") for h in TRACKER_HEADER)
    return RawRow(number, values, links, colors)


# -- header ----------------------------------------------------------------------------------


def test_real_tracker_header_below_the_statistics_block_maps_every_column():
    c = tracker_columns()
    assert (c.artist, c.album, c.release_date, c.album_type, c.genre) == (0, 1, 2, 3, 4)
    assert (c.vocal_style, c.location, c.bandcamp, c.spotify, c.youtube) == (5, 6, 7, 8, 9)
    assert (c.amazon, c.apple_music, c.google_play) == (10, 11, None)
    assert c.missing() == []


def test_google_play_column_moves_the_later_link_columns():
    c = tracker_columns(OLD_TRACKER_HEADER)
    assert (c.spotify, c.google_play, c.youtube, c.apple_music) == (8, 9, 10, 12)


def test_header_spacing_and_case_do_not_matter():
    c = tracker_columns(["  ARTIST", "album ", "release date", "LENGTH", "genre/subgenres", "x"])
    assert (c.album_type, c.genre) == (3, 4)


def test_a_configured_alias_can_name_location_as_country():
    raws = [RawRow(1, ("Band", "Record", "Based in"))]
    columns, _ = find_header(raws, {"Based in": "country"})
    assert columns.location == 2


def test_unknown_header_columns_become_link_services():
    c = tracker_columns([*TRACKER_HEADER, "Deezer Link", "Notes"])
    assert c.other_links == ((12, "deezer_link"), (13, "notes"))


def test_drift_warning_names_the_tab_the_field_and_the_columns_seen():
    header = ["Artist", "Album", "Release Date", "Genres of music", "Vocal Style", "Spotify"]
    columns, _ = find_header([RawRow(6, tuple(header))])
    warnings = drift_warnings(columns, header, "2025 Prog-metal")
    assert warnings[0] == (
        "No genre column in '2025 Prog-metal' (columns seen: Artist, Album, Release Date, "
        "Genres of music, Vocal Style, Spotify): genres will be empty. Rename the column or map "
        "it in SYNCCORE_HEADER_ALIASES."
    )
    assert [w.split(" column")[0] for w in warnings] == [
        "No genre",
        "No country / state",
        "No length (LP / EP)",
    ]
    assert drift_warnings(tracker_columns(), TRACKER_HEADER, "2025 Prog-metal") == []


# -- a whole tracker row ---------------------------------------------------------------------


def test_tracker_row_gives_every_field():
    links = {7: "https://imperialtriumphant.bandcamp.com/album/goldstar"}
    links[8] = f"https://open.spotify.com/album/{ALBUM_ID}?si=abc123"
    row = tracker_row(links=links, colors={3: ORANGE})
    album = parse_row(row, tracker_columns(), worksheet="2025 Prog-metal")
    assert isinstance(album, AlbumRow)
    assert album.key == f"spotify:{ALBUM_ID}"
    assert album.genres == ("Avant-Garde metal", "Harsh Electronic", "Djent")
    assert album.genre_keys == ("avant-garde metal", "harsh electronic", "djent")
    assert (album.location, album.country) == ("New York City, NY", "United States")
    assert album.album_type == "LP"
    assert dict(album.links) == {
        "bandcamp": "https://imperialtriumphant.bandcamp.com/album/goldstar",
        "spotify": f"https://open.spotify.com/album/{ALBUM_ID}",
    }
    assert (album.debut, album.reissue) == (True, False)
    assert album.worksheets == ("2025 Prog-metal",)
    assert album.release.display == "2025-03-14"


def test_link_text_that_is_a_url_counts_without_a_hyperlink():
    row = tracker_row(YouTube="https://youtu.be/abc", Bandcamp="BC")
    album = parse_row(row, tracker_columns())
    assert dict(album.links) == {"youtube": "https://youtu.be/abc"}  # a label alone is no link


def test_a_hyperlink_in_an_unknown_column_is_a_link_of_that_service():
    columns = tracker_columns([*TRACKER_HEADER, "Notes"])
    values = tracker_row().values + ("pre-order soon",)
    album = parse_row(RawRow(7, values, {12: "https://shop.example/x"}), columns)
    assert dict(album.links) == {"notes": "https://shop.example/x"}


def test_a_non_http_hyperlink_is_not_kept():
    album = parse_row(tracker_row(links={7: "javascript:alert(1)"}), tracker_columns())
    assert album.links == ()


def test_reissue_color_within_the_distance_counts_and_white_does_not():
    columns = tracker_columns()
    shade = parse_hex("#93c47d")
    assert parse_row(tracker_row(colors={3: shade}), columns).reissue is True
    plain = parse_row(tracker_row(colors={3: (255, 255, 255)}), columns)
    assert (plain.debut, plain.reissue) == (False, False)
    elsewhere = parse_row(tracker_row(colors={0: ORANGE}), columns)  # only Length counts
    assert elsewhere.debut is False


def test_content_hash_changes_with_every_new_field():
    columns = tracker_columns()
    base = parse_row(tracker_row(), columns)
    variants = [
        tracker_row(**{"Genre / Subgenres": "Djent"}),
        tracker_row(**{"Country / State": "Tampa, FL"}),
        tracker_row(Length="EP"),
        tracker_row(colors={3: GREEN}),
        tracker_row(links={9: "https://youtu.be/x"}),
    ]
    hashes = {parse_row(v, columns).content_hash for v in variants}
    assert base.content_hash not in hashes and len(hashes) == len(variants)
    assert with_worksheets(base, ("a", "b")).content_hash != base.content_hash
    assert parse_row(tracker_row(number=99), columns).content_hash == base.content_hash


# -- announced, untitled albums ----------------------------------------------------------------


@pytest.mark.parametrize("date", ["TBA", "", None, "March 2025", "Fall", "Early 2024", 2025])
def test_announced_album_without_title_is_skipped_as_announced(date):
    row = tracker_row(Album="", **{"Release Date": date})
    assert parse_row(row, tracker_columns()) is ANNOUNCED


def test_untitled_row_with_a_full_date_is_still_a_row_error():
    error = parse_row(tracker_row(Album=""), tracker_columns())
    assert isinstance(error, RowError) and error.reason == "Missing album name"


def test_a_failed_rows_serial_release_date_is_shown_as_a_date():
    error = parse_row(tracker_row(Album=""), tracker_columns())
    assert isinstance(error, RowError)
    assert error.values[TRACKER_HEADER.index("Release Date")] == "2025-03-14"  # not 45730
    assert "45730" not in error.values


def test_a_duplicates_serial_release_date_is_shown_as_a_date():
    from synccore.rows import AlbumRow, duplicate_error

    album = parse_row(tracker_row(), tracker_columns())
    assert isinstance(album, AlbumRow)
    assert duplicate_error(album, 9).values[0] == "2025-03-14"


def test_title_without_artist_is_still_a_row_error():
    error = parse_row(tracker_row(Artist="", **{"Release Date": "TBA"}), tracker_columns())
    assert isinstance(error, RowError) and error.reason == "Missing artist name"


def test_unannounced_projects_section_row_is_skipped_quietly():
    columns = tracker_columns()
    assert parse_row(RawRow(300, ("Unannounced Projects",)), columns) is None
    assert parse_row(RawRow(300, ("", "UNANNOUNCED PROJECTS")), columns) is None


# -- genres ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, genres",
    [
        (
            "Avant-Garde metal, Harsh Electronic, Djent",
            ("Avant-Garde metal", "Harsh Electronic", "Djent"),
        ),
        ("Atmospheric/Post-Black metal", ("Atmospheric/Post-Black metal",)),
        ("Djent; Prog metal ,djent,  DJENT", ("Djent", "Prog metal")),
        (" , ;; ", ()),
        ("Prog   metal,prog metal", ("Prog metal",)),
        ("", ()),
        (None, ()),
    ],
)
def test_genre_lists_split_on_commas_and_semicolons_only(text, genres):
    assert split_genres(text)[0] == genres


genre_word = st.text(
    alphabet=st.characters(blacklist_characters=",;", blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=12,
)


@given(st.lists(genre_word, max_size=8), st.sampled_from([",", ";", ", ", " ; "]))
def test_genre_splitting_keeps_order_and_drops_case_duplicates(words, separator):
    names, keys = split_genres(separator.join(words))
    expected: list[str] = []
    for word in words:
        name = " ".join(word.split())
        if name and normalize_name(name) not in [normalize_name(e) for e in expected]:
            expected.append(name)
    assert list(names) == expected
    assert len(set(keys)) == len(keys) == len(names)


def test_a_genre_longer_than_the_column_is_a_row_error():
    error = parse_row(
        tracker_row(**{"Genre / Subgenres": "Djent, " + "x" * 501}), tracker_columns()
    )
    assert isinstance(error, RowError) and error.reason.startswith("A genre is longer than 500")


# -- locations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location, country",
    [
        ("Tampa, FL", "United States"),
        ("Austin, Texas", "United States"),
        ("Los Angeles, CA", "United States"),
        ("Washington, D.C.", "United States"),
        ("Portland, OR, USA", "United States"),
        ("US", "United States"),
        ("Québec City, Canada", "Canada"),
        ("Montréal, QC", "Canada"),
        ("France", "France"),
        ("Paris, France", "France"),
        ("London, UK", "United Kingdom"),
        ("Manchester, England", "United Kingdom"),
        ("Glasgow, Scotland", "United Kingdom"),
        ("Cardiff, Wales", "United Kingdom"),
        ("Oslo, NO", "Norway"),
        ("Moscow, Russia", "Russia"),
        ("Berlin, DEU", "Germany"),
        ("International", None),
        ("Atlantis", None),
        ("", None),
        (None, None),
    ],
)
def test_location_to_country(location, country):
    assert country_of(location) == country


def test_user_mappings_win_for_the_whole_text_or_its_last_part():
    mappings = normalize_mappings({"Tbilisi, Georgia": "Georgia", "Europe": "Europe"})
    assert country_of("Tbilisi, Georgia", mappings) == "Georgia"
    assert country_of("Atlanta, Georgia", mappings) == "United States"
    assert country_of("Somewhere, EUROPE", mappings) == "Europe"


def test_row_rules_apply_the_user_mappings():
    rules = RowRules.from_settings(None, {"International": "Various"})
    album = parse_row(tracker_row(**{"Country / State": "International"}), tracker_columns(), rules)
    assert (album.location, album.country) == ("International", "Various")


# -- colors ----------------------------------------------------------------------------------


def test_default_legend_is_the_trackers():
    legend = color_legend()
    assert color_flag(ORANGE, legend) == "debut"
    assert color_flag(GREEN, legend) == "reissue"
    assert color_flag(parse_hex("#93c47d"), legend) == "reissue"
    assert color_flag((255, 255, 255), legend) is None
    assert color_flag(None, legend) is None


@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_a_color_counts_exactly_when_within_the_distance(rgb):
    legend = color_legend('{"#ffba4a": "debut"}')
    near = sum((a - b) ** 2 for a, b in zip(rgb, ORANGE, strict=True)) <= MATCH_DISTANCE**2
    assert (color_flag(rgb, legend) == "debut") is near


@pytest.mark.parametrize(
    "setting", ['{"orange": "debut"}', '{"#ffba4a": "first"}', "not json", '["#ffba4a"]']
)
def test_a_bad_color_legend_is_a_configuration_error(setting):
    with pytest.raises(ConfigurationError, match="SYNCCORE_COLOR_FLAGS"):
        color_legend(setting)
