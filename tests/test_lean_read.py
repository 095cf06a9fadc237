"""The lean read (values.batchGet, then grid data masked to links and colors of the link and
Length columns) returns what the whole-grid read returned, on tracker-shaped and generated
hostile sheets, over real HTTP to the stand-in; and reads a real-tracker-sized spreadsheet in a
handful of requests."""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synccore.demo import REAL_TRACKER_YEARS, demo_tracker, keep_links, tracker_worksheets
from synccore.errors import HeaderNotFound, MalformedResponse
from synccore.rows import AlbumRow, find_header, parse_row
from synccore.sources.answers import grid_rows
from synccore.sources.base import NullFetchListener, RawRow
from synccore.sources.sheets import GoogleSheetSource
from synccore.standin import FakeSheetsServer, FakeWorksheet

from .support.sheets import API_KEY, SHEET_KEY, api_settings, sheet_api


@pytest.fixture(scope="module")
def server():
    with sheet_api() as api:
        yield api


def lean_read(
    server: FakeSheetsServer, chunk_rows: int | None = None, worksheet: str = "*", **overrides
) -> dict[str, list[RawRow]]:
    """Every selected tab's rows as the sync reads them."""
    settings = api_settings(server.url, "sqlite://", worksheet=worksheet, **overrides)
    source = GoogleSheetSource(settings, chunk_rows=chunk_rows)
    listener = NullFetchListener()
    return {
        tab.title: [row for chunk in source.read_tab(tab, listener) for row in chunk]
        for tab in source.tabs(listener)
    }


def grid_read(server: FakeSheetsServer) -> dict[str, list[RawRow]]:
    """Every tab's rows from one unmasked whole-grid `spreadsheets.get`: the reference."""
    answer = requests.get(
        f"{server.url}/v4/spreadsheets/{SHEET_KEY}",
        params={"includeGridData": "true", "key": API_KEY},
        timeout=60,
    ).json()
    return {
        sheet["properties"]["title"]: grid_rows(sheet["data"][0], 0) for sheet in answer["sheets"]
    }


def as_used(rows: list[RawRow], aliases=None) -> tuple[list[tuple], list | None]:
    """What the engine takes from a tab: each row's number and values (empty rows dropped, as
    the grid read ends at its last row with anything), the links and colors of rows with values
    in the columns it reads them from, below the header, and every row parsed."""
    values = [(r.number, r.values) for r in rows if r.values]
    try:
        columns, index = find_header(rows, aliases)
    except HeaderNotFound:
        return values, None
    used = {c for c, _ in columns.links} | {columns.album}
    header = rows[index].number
    extras = []
    parsed = []
    for row in rows[index + 1 :]:
        links = {c: u for c, u in (row.links or {}).items() if c in used}
        color = (
            (row.colors or {}).get(columns.album_type) if columns.album_type is not None else None
        )
        if row.number > header and row.values and (links or color):
            extras.append((row.number, links, color))
        if not row.values:
            continue  # a row with no values is no album, links or not
        result = parse_row(replace(row, links=links or None), columns, worksheet="t")
        parsed.append(result if not isinstance(result, AlbumRow) else result.content_hash)
    return values, [extras, parsed]


def assert_same_as_grid(server: FakeSheetsServer, **read_options) -> None:
    lean, grid = lean_read(server, **read_options), grid_read(server)
    aliases = read_options.get("header_aliases")
    assert set(lean) <= set(grid)
    for title, rows in lean.items():
        lean_used, grid_used = as_used(rows, aliases), as_used(grid[title], aliases)
        if grid_used[1] is None:  # no header: the engine reads no further than where it looked
            assert lean_used[0] == grid_used[0][: len(lean_used[0])], title
        else:
            assert lean_used == grid_used, title


def test_a_tracker_reads_the_same_as_the_whole_grid(server):
    tabs = demo_tracker(years=(2025, 2019, 2017), albums_per_tab=120, announced=3)
    server.add_spreadsheet(SHEET_KEY, tracker_worksheets(tabs), public=True)
    assert_same_as_grid(server)
    assert_same_as_grid(server, chunk_rows=40)  # many pieces, tabs across requests


def test_all_three_kinds_of_link_and_the_length_colors_come_through(server):
    tabs = demo_tracker(years=(2025,), albums_per_tab=60, announced=0, bad_rows=False)
    sheets = tracker_worksheets(tabs)
    server.add_spreadsheet(SHEET_KEY, sheets, public=True)
    rows = {r.number: r for r in lean_read(server)[tabs[0].title]}
    sheet = sheets[0]
    kinds = {"cell": 0, "text run": 0, "formula": 0}
    for (r, c), url in sheet.links.items():
        if r < tabs[0].header_row:
            continue  # above the header: not read for links
        assert rows[r + 1].links[c] == url
        kind = (
            "formula"
            if (r, c) in sheet.formula_links
            else "text run"
            if (r, c) in sheet.text_run_links
            else "cell"
        )
        kinds[kind] += 1
    assert min(kinds.values()) > 10
    colored = {r + 1 for (r, c) in sheet.backgrounds if c == 3}
    assert colored and all(rows[n].colors and 3 in rows[n].colors for n in colored)


def test_ragged_rows_trailing_empty_cells_and_blank_rows_read_as_in_the_grid(server):
    header = ["Artist", "Album", "Length", "Spotify"]
    values = [
        ["Tracker 2025", "", "", "", ""],  # merged title cells: text in the first only
        ["Releases:", 3, "", "LPs:", '=COUNTIF(C:C,"LP")'],
        [],
        header,
        ["A", "One", "LP", "S", "", ""],  # trailing empty cells
        ["B", "Two"],  # ragged
        [],
        [],
        ["", "", "", "S"],  # a link in an otherwise empty row
        ["C", "Three", "EP", "", "", "", "", "note far right"],
    ]
    links = {(4, 3): "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"}
    links[(8, 3)] = "https://open.spotify.com/album/0sNOF9WDwhWunNAHPD3Baj"
    sheet = FakeWorksheet(
        "2025", 0, values, links, formula_links={(8, 3)}, row_count=40, column_count=12
    )
    sheet.backgrounds[(9, 2)] = "#ffba4a"
    server.add_spreadsheet(SHEET_KEY, [sheet], public=True)
    assert_same_as_grid(server)
    rows = lean_read(server)["2025"]
    assert [r.number for r in rows] == list(range(1, 11))  # blank rows kept, trailing ones not
    assert rows[4].values == ("A", "One", "LP", "S") and rows[5].values == ("B", "Two")
    assert rows[8].links == {3: links[(8, 3)]} and rows[9].colors == {2: (255, 186, 74)}


LABELS = ["Artist", "Album", "Release Date", "Length", "Genre", "Spotify", "Bandcamp", "Notes"]
TEXT = st.one_of(
    st.sampled_from(["", "", "LP", "EP", "S", "BC", "Djent", "TBA", "=x", "'", "!A1", " "]),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=8,
    ),
    st.integers(-5, 50_000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
)


@st.composite
def hostile_tabs(draw) -> list[FakeWorksheet]:
    """1-3 tabs: title rows, a header in any column order (or none), ragged rows, blank runs,
    links of the three kinds on any cell (empty ones too), colors anywhere."""
    tabs = []
    for number in range(draw(st.integers(1, 3))):
        rows: list[list] = [
            draw(st.lists(TEXT, max_size=4)) for _ in range(draw(st.integers(0, 4)))
        ]
        if draw(st.integers(0, 5)):
            rows.append(draw(st.permutations(LABELS))[: draw(st.integers(2, len(LABELS)))])
        for _ in range(draw(st.integers(0, 40))):
            if draw(st.integers(0, 4)) == 0:
                rows.extend([] for _ in range(draw(st.integers(1, 12))))
            else:
                rows.append(draw(st.lists(TEXT, max_size=10)))
        width = max([len(r) for r in rows] + [1])
        sheet = FakeWorksheet(
            f"Tab {number}'s",
            number * 7,
            rows,
            row_count=len(rows) + draw(st.integers(0, 30)) + 1,
            column_count=width + draw(st.integers(0, 3)),
        )
        cells = st.tuples(st.integers(0, len(rows)), st.integers(0, width - 1))
        for cell in draw(st.lists(cells, max_size=25, unique=True)):
            sheet.links[cell] = f"https://example.test/{cell[0]}/{cell[1]}"
            kind = draw(st.integers(0, 2))
            if kind == 1:
                sheet.text_run_links.add(cell)
            elif kind == 2:
                sheet.formula_links.add(cell)
        for cell in draw(st.lists(cells, max_size=15, unique=True)):
            sheet.backgrounds[cell] = draw(st.sampled_from(["#ffba4a", "#96da77", "#ffffff"]))
        tabs.append(sheet)
    return tabs


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tabs=hostile_tabs(), chunk=st.sampled_from([None, 16, 23]))
def test_generated_hostile_sheets_read_the_same_as_the_whole_grid(server, tabs, chunk):
    server.add_spreadsheet(SHEET_KEY, tabs, public=True)
    assert_same_as_grid(server, chunk_rows=chunk)


def test_a_real_tracker_sized_spreadsheet_takes_at_most_eight_read_requests(server):
    tabs = demo_tracker(years=REAL_TRACKER_YEARS, albums_per_tab=975, announced=4)
    assert len(tabs) == 19 and 17_500 <= sum(len(t.albums) for t in tabs[:-1]) <= 17_700
    # two or three links per album (Spotify always, Bandcamp and Apple Music three times in
    # four), in the three ways a cell carries one, as the real tracker's rows have
    tabs = [keep_links(t, {"Bandcamp", "Spotify", "Apple Music"}) for t in tabs]
    sheets = tracker_worksheets(tabs)
    for sheet in sheets:  # a real tab's grid has empty rows and columns past its data
        sheet.row_count = len(sheet.values) + 60
        sheet.column_count = 26
    server.add_spreadsheet(SHEET_KEY, sheets, public=True)
    server.reset_log()
    rows = lean_read(server, worksheet="*Prog-*,*Reissues*,20??")  # not Statistics
    assert len(rows) == 18
    assert server.read_requests <= 8, [(p, sorted(q)) for _, p, q in server.request_log]
    assert server.status_counts[200] == server.read_requests


def cut_every_range_in_half(answer: dict) -> dict:
    """A proxy cutting each list short: half of every value range's and grid block's rows."""
    for found in answer.get("valueRanges", []):
        found["values"] = (found.get("values") or [])[: len(found.get("values") or []) // 2]
    for sheet in answer.get("sheets", []):
        for block in sheet.get("data", []):
            block["rowData"] = (block.get("rowData") or [])[: len(block.get("rowData") or []) // 2]
    return answer


@pytest.mark.parametrize("kind", ["UNFORMATTED_VALUE", "includeGridData"])
def test_a_cut_answer_spanning_several_tabs_is_found_and_read_again(server, kind):
    tabs = demo_tracker(years=(2025, 2019), albums_per_tab=80, announced=2)
    server.add_spreadsheet(SHEET_KEY, tracker_worksheets(tabs), public=True)
    expected = lean_read(server)
    server.reset_log()
    server.inject("answer", times=1, query_contains=kind, answer=cut_every_range_in_half)
    assert lean_read(server) == expected
    first, *_ = [q for _, _, q in server.request_log if kind in str(q)]
    assert len(first["ranges"]) > 1  # the cut answer held several tabs' ranges
    assert server.read_requests > 1 + 2 + 2  # and was read again


def test_answers_cut_every_time_fail_the_read_instead_of_losing_rows(server):
    tabs = demo_tracker(years=(2025,), albums_per_tab=40, announced=0)
    server.add_spreadsheet(SHEET_KEY, tracker_worksheets(tabs), public=True)
    server.inject(
        "answer", times=1000, query_contains="UNFORMATTED", answer=cut_every_range_in_half
    )
    try:
        with pytest.raises(MalformedResponse, match="out of one answer but sent values"):
            lean_read(server)
    finally:
        server.clear_faults()
