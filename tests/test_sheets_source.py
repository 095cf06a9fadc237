"""The gspread path for real: HTTP to the Sheets API stand-in, a service account's signed JWT,
values and hyperlinks (the lean read), worksheets, chunking, pacing. Errors are in
test_google_errors.py."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from synccore.db import Database
from synccore.errors import SyncCancelled, TransientSourceError
from synccore.models import Album, SyncStage
from synccore.rows import find_header, parse_row
from synccore.sources.answers import Span, grid_extras, grid_rows, value_ranges
from synccore.sources.base import NullFetchListener
from synccore.sources.http_limits import RequestDeadline, within_deadline
from synccore.sources.lean_read import Measure
from synccore.sources.pacing import ReadQuota
from synccore.sources.sheets import GoogleSheetSource, tabs_described
from synccore.standin import FakeWorksheet

from .support.google import ID_A, ID_B, KEY, google_settings, run, tracker_values


def albums_by_title(db: Database) -> dict[str, Album]:
    with db.session() as s:
        return {a.title: a for a in s.scalars(select(Album))}


def test_service_account_reads_values_and_hyperlinks(database_url, fake_sheets):
    values, links = tracker_values()
    fake_sheets.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, values, links)])
    sync, status = run(google_settings(database_url, fake_sheets))
    assert status.status.value == "completed", status.error
    assert status.created == 2
    found = albums_by_title(sync.db)
    assert found["Hin helga kvöl"].spotify_id == ID_A  # the cell's hyperlink, not its text
    assert found["Hin helga kvöl"].release_precision == "day"
    assert (found["Hin helga kvöl"].release_year, found["Hin helga kvöl"].release_month) == (
        2025,
        1,
    )
    assert found["Rose Thorn Necklace"].spotify_id == ID_B  # a URL typed as text
    assert found["Rose Thorn Necklace"].release_precision == "month"
    assert fake_sheets.tokens_issued == 1  # the signed JWT was accepted by the token endpoint
    values_requests, grid_requests = lean_requests(fake_sheets)
    assert [q["valueRenderOption"] for q in values_requests] == [["UNFORMATTED_VALUE"]]
    assert values_requests[0]["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert values_requests[0]["ranges"] == ["'Releases'!A1:G6"]
    # links and colors only, from the album column to the last link column, below the header;
    # row 6's link cell holds text but came back without a link: asked again to be sure
    assert [q["ranges"] for q in grid_requests] == [["'Releases'!C4:G6"], ["'Releases'!C6:G6"]]
    assert grid_requests[0]["fields"] == [
        "sheets(properties(sheetId),data(startRow,startColumn,rowData(values(hyperlink,"
        "textFormatRuns(format(link(uri))),effectiveFormat(backgroundColor)))))"
    ]


def lean_requests(server) -> tuple[list[dict], list[dict]]:
    """The queries of the values.batchGet and the grid-data requests, in order."""
    values = [q for _, path, q in server.request_log if path.endswith("/values:batchGet")]
    grid = [q for _, _, q in server.request_log if "includeGridData" in q]
    return values, grid


def test_link_inserted_with_ctrl_k_is_found_in_text_runs(sqlite_url, fake_sheets):
    values, links = tracker_values()
    sheet = FakeWorksheet("Releases", 0, values, links, text_run_links=set(links))
    fake_sheets.add_spreadsheet(KEY, [sheet])
    sync, status = run(google_settings(sqlite_url, fake_sheets))
    assert albums_by_title(sync.db)["Hin helga kvöl"].spotify_id == ID_A


def test_api_key_reads_a_public_sheet(sqlite_url, fake_sheets):
    fake_sheets.api_keys.add("public-key-123")
    fake_sheets.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, tracker_values()[0])])
    settings = google_settings(
        sqlite_url, fake_sheets, credentials_info=None, api_key="public-key-123"
    )
    _, status = run(settings)
    assert status.created == 2 and fake_sheets.tokens_issued == 0


@pytest.mark.parametrize("worksheet", ["Releases 2025", "releases 2025", "77"])
def test_worksheet_by_name_any_case_or_gid(sqlite_url, fake_sheets, worksheet):
    other = FakeWorksheet("Notes", 0, [["nothing here"]])
    wanted = FakeWorksheet("Releases 2025", 77, tracker_values()[0])
    fake_sheets.add_spreadsheet(KEY, [other, wanted])
    _, status = run(google_settings(sqlite_url, fake_sheets, worksheet=worksheet))
    assert status.created == 2, status.error


def test_worksheet_gid_from_the_url(sqlite_url, fake_sheets):
    fake_sheets.add_spreadsheet(
        KEY, [FakeWorksheet("Notes", 0, [["x"]]), FakeWorksheet("Data", 5, tracker_values()[0])]
    )
    url = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=5"
    _, status = run(google_settings(sqlite_url, fake_sheets, sheet=url))
    assert status.created == 2, status.error


def test_missing_worksheet_lists_the_ones_there(sqlite_url, fake_sheets):
    fake_sheets.add_spreadsheet(
        KEY, [FakeWorksheet("Releases", 0, [["x"]]), FakeWorksheet("Archive", 9, [["x"]])]
    )
    sync, status = run(google_settings(sqlite_url, fake_sheets, worksheet="2026"))
    assert status.status.value == "failed"
    assert status.error == (
        'The spreadsheet has no worksheet "2026". Its worksheets are: "Releases" (gid 0), '
        '"Archive" (gid 9). Set SYNCCORE_WORKSHEET to one of these names or gids, or leave it '
        "empty for the first."
    )


def test_sheet_is_read_in_chunks_with_progress_and_row_numbers(sqlite_url, fake_sheets):
    values, links = tracker_values(albums=950)
    fake_sheets.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, values, links)])
    settings = google_settings(sqlite_url, fake_sheets, progress_interval=0)
    source = GoogleSheetSource(settings, chunk_rows=200)
    seen = []
    sync, status = run(settings, source=source, on_progress=seen.append)
    assert status.created == 952
    values_requests, grid_requests = lean_requests(fake_sheets)
    assert [q["ranges"] for q in values_requests][:2] == [
        ["'Releases'!A1:G200"],
        ["'Releases'!A201:G400"],
    ]
    assert len(values_requests) == 5  # 956 rows in chunks of 200
    assert [q["ranges"] for q in grid_requests][:2] == [
        ["'Releases'!C4:G200", "'Releases'!C201:G203"],  # 200 rows: a request's worth waited
        [
            "'Releases'!C6:G200",  # albums with text but no link: asked again, to be sure
            "'Releases'!C201:G203",
            "'Releases'!C204:G400",
            "'Releases'!C401:G403",
        ],
    ]
    fetching = [p for p in seen if p.stage is SyncStage.FETCHING and p.total]
    assert [p.processed for p in fetching][:3] == [200, 400, 600]
    assert fetching[0].message == "Fetching albums from Google Sheets... 200 of 956 rows read"
    with sync.db.session() as s:
        assert s.scalar(select(Album.sheet_row).where(Album.title == "Album 949")) == 956


def test_reads_pace_themselves_to_the_quota_instead_of_tripping_it(sqlite_url, fake_sheets):
    fake_sheets.read_quota_per_minute, fake_sheets.quota_window = 3, 1.0
    values, _ = tracker_values(albums=500)
    fake_sheets.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, values)])
    settings = google_settings(sqlite_url, fake_sheets, progress_interval=0)
    # ReadQuota keeps its window 5% longer than Google's: 3 s of slack on the real 60 s window,
    # but only 50 ms on this 1 s one, less than a loaded machine may take to send a request.
    # 1.25 s here gives the same slack in proportion to a request's latency on this machine.
    source = GoogleSheetSource(settings, chunk_rows=100, quota=ReadQuota(3, window=1.25))
    seen = []
    _, status = run(settings, source=source, on_progress=seen.append)
    assert status.created == 502, status.error
    assert fake_sheets.status_counts[429] == 0  # paced, never refused
    values_requests, grid_requests = lean_requests(fake_sheets)
    # 506 rows, 100 per request; one more for links, as row 5's "Listen" came without one
    assert (len(values_requests), len(grid_requests)) == (6, 7)
    assert fake_sheets.read_requests == 1 + 6 + 7  # and the metadata
    assert any(
        p.message.startswith(
            "Pacing requests to stay within Google's read quota (3 per minute): next read in"
        )
        for p in seen
    )


def test_read_quota_window_slides():
    now = [0.0]
    quota = ReadQuota(2, window=60, clock=lambda: now[0])
    assert quota.reserve() == 0 and quota.reserve() == 0
    now[0] = 10.0
    assert quota.reserve() == pytest.approx(53.0)  # 60 s and a 5% margin after the first
    now[0] = 63.0
    assert quota.reserve() == 0


def test_rows_from_the_api_parse_like_the_sheet_shows_them(fake_sheets):
    values, links = tracker_values()
    fake_sheets.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, values, links)])
    settings = google_settings("sqlite://", fake_sheets)
    rows = [r for chunk in GoogleSheetSource(settings).read(NullFetchListener()) for r in chunk]
    columns, index = find_header(rows)
    assert rows[index].number == 3
    parsed = [parse_row(r, columns) for r in rows[index + 1 :]]
    assert parsed[0] is None  # the JANUARY section row is skipped quietly
    assert parsed[1].artist == "Sólstafir" and parsed[1].key == "spotify:" + ID_A


def test_grid_rows_decodes_values_links_and_ragged_rows():
    block = {
        "startRow": 10,
        "rowData": [
            {
                "values": [
                    {"effectiveValue": {"numberValue": 45667}},
                    {"effectiveValue": {"stringValue": "Band"}},
                    {},
                    {"effectiveValue": {"boolValue": True}, "hyperlink": "https://x.test/a"},
                    {},
                ]
            },
            {},
            {"values": [{"effectiveValue": {"errorValue": {"type": "N_A", "message": "nope"}}}]},
        ],
    }
    rows = grid_rows(block, first_row=0)
    assert [r.number for r in rows] == [11, 12, 13]
    assert rows[0].values == (45667, "Band", None, True)
    assert rows[0].links == {3: "https://x.test/a"}
    assert rows[1].values == () and rows[1].links is None
    assert rows[2].values == ("#N/A",)


def test_a1_ranges_quote_titles_and_name_the_columns():
    assert Span("Releases", 0, 0, 500, 0, 7).a1 == "'Releases'!A1:H500"
    assert Span("Bob's 2025", 3, 500, 1000, 2, 27).a1 == "'Bob''s 2025'!C501:AB1000"


def test_request_size_follows_the_measured_bytes_per_row_of_its_kind():
    measure = Measure()
    assert measure.budget(None, per_row_estimate=240) == 7_500  # 12 columns, 20 B each
    measure.learn(size=400_000, rows=1000)
    assert measure.budget(None, per_row_estimate=240) == 4_500  # 400 B/row
    measure.learn(size=50_000_000, rows=1000)
    assert measure.budget(None, per_row_estimate=240) == 100  # floor
    measure.learn(size=1_000, rows=1000)
    assert measure.budget(None, per_row_estimate=240) == 50_000  # ceiling
    assert measure.budget(20, per_row_estimate=240) == 20  # a fixed size wins


SPAN = Span("Releases", 7, 100, 200, 0, 6)


def value_range(rows=None, text="Releases!A101:G200") -> dict:
    found: dict = {"range": text}
    if rows is not None:
        found["values"] = rows
    return found


def test_a_values_answer_may_be_short_but_must_be_the_range_asked_for():
    answer = {"valueRanges": [value_range([["a", "", 3], [], ["", "b", ""]])]}
    assert value_ranges(answer, [SPAN]) == [[("a", None, 3), (), (None, "b")]]
    assert value_ranges({"valueRanges": [value_range()]}, [SPAN]) == [[]]  # all empty
    quoted = Span("Bob's 2025", 7, 0, 10, 0, 6)
    answer = {"valueRanges": [value_range([["a"]], "'Bob''s 2025'!A1:G10")]}
    assert value_ranges(answer, [quoted]) == [[("a",)]]


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"error": {"code": 503, "message": "Service unavailable"}},
        {"valueRanges": []},
        {"valueRanges": [value_range(), value_range()]},
        {"valueRanges": ["not a range"]},
        {"valueRanges": [{"values": [["a"]]}]},  # no range: which rows are these?
        {"valueRanges": [value_range([["a"]], "Releases!A1:G100")]},  # other rows
        {"valueRanges": [value_range([["a"]], "Archive!A101:G200")]},  # another tab
        {"valueRanges": [value_range([["a"]], "Releases!C101:G200")]},  # other columns
        {"valueRanges": [value_range([["a"]] * 101)]},
        {"valueRanges": [value_range([["a"] * 8])]},  # wider than asked
        {"valueRanges": [value_range(["not a row"])]},
        {"valueRanges": [value_range([[{"a": 1}]])]},
    ],
)
def test_a_values_answer_without_the_range_asked_for_is_a_broken_answer(answer):
    with pytest.raises(TransientSourceError) as raised:
        value_ranges(answer, [SPAN])
    assert raised.value.kind == "broken" and "rows 101 to 200 of 'Releases'" in str(raised.value)


LINKS = Span("Releases", 7, 100, 200, 2, 6)
LINK = {"hyperlink": "https://x.test/a"}


def block(**fields) -> dict:
    return {"properties": {"sheetId": 7}, "data": [{"startRow": 100, "startColumn": 2, **fields}]}


def test_a_links_answer_is_found_by_tab_row_and_column_and_may_be_short():
    answer = {"sheets": [block(rowData=[{"values": [{}, {}, LINK]}, {}])]}
    assert grid_extras(answer, [LINKS]) == [[({4: "https://x.test/a"}, None), (None, None)]]
    assert grid_extras({"sheets": [block()]}, [LINKS]) == [[]]
    first = Span("Releases", 0, 0, 10, 0, 3)  # Google omits a 0 sheet id, row and column
    assert grid_extras({"sheets": [{"data": [{}]}]}, [first]) == [[]]


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"error": {"code": 503, "message": "Service unavailable"}},
        {"sheets": []},
        {"sheets": [{}]},
        {"sheets": [{"properties": {"sheetId": 7}, "data": []}]},
        {"sheets": ["not a sheet"]},
        {"sheets": [block(), block()]},
        {"sheets": [{"data": [{"startRow": 100, "startColumn": 2}]}]},  # another tab
        {"sheets": [{"properties": {"sheetId": 7}, "data": [{"startRow": 100}]}]},
        {"sheets": [{"properties": {"sheetId": 7}, "data": [{"startColumn": 2}]}]},
        {"sheets": [block(rowData=[{}] * 101)]},
        {"sheets": [block(rowData=[{"values": [{}] * 6}])]},  # wider than asked
        {"sheets": [block(rowData=["not a row"])]},
    ],
)
def test_a_links_answer_without_the_range_asked_for_is_a_broken_answer(answer):
    with pytest.raises(TransientSourceError) as raised:
        grid_extras(answer, [LINKS])
    assert raised.value.kind == "broken"


@pytest.mark.parametrize(
    "meta",
    [
        {},
        {"sheets": []},
        {"error": {"code": 500}},
        {"sheets": [{"properties": {"title": "A", "sheetId": 0}}]},
        {"sheets": [{"properties": {"title": "A", "gridProperties": {"rowCount": 0}}}]},
        {"sheets": [{"properties": {"title": "A", "gridProperties": {"rowCount": "9"}}}]},
        {"sheets": [{"properties": {"gridProperties": {"rowCount": 9}}}]},
        {
            "sheets": [
                {
                    "properties": {
                        "title": "A",
                        "gridProperties": {"rowCount": 9, "columnCount": "x"},
                    }
                }
            ]
        },
        {"sheets": ["not a sheet"]},
    ],
)
def test_a_metadata_answer_without_a_row_count_is_a_broken_answer(meta):
    with pytest.raises(TransientSourceError) as raised:
        tabs_described(meta, None)
    assert raised.value.kind == "broken"


def test_within_deadline_returns_raises_or_gives_up_in_time():
    assert within_deadline(lambda: 42, 5, lambda: None) == 42
    with pytest.raises(ZeroDivisionError):
        within_deadline(lambda: 1 / 0, 5, lambda: None)
    gate = threading.Event()  # a request that never ends on its own
    started = time.monotonic()
    with pytest.raises(RequestDeadline):
        within_deadline(lambda: gate.wait(30), 0.3, lambda: None)
    assert time.monotonic() - started < 2

    def cancelled() -> None:
        raise SyncCancelled("Sync cancelled.")

    started = time.monotonic()
    with pytest.raises(SyncCancelled):
        within_deadline(lambda: gate.wait(30), 60, cancelled)
    assert time.monotonic() - started < 2
    gate.set()
