"""The gspread path for real: HTTP to the fake Sheets API, a service account's signed JWT,
hyperlinks from grid data, worksheets, chunking, pacing. Errors are in test_google_errors.py."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from synccore.db import Database
from synccore.errors import SyncCancelled, TransientSourceError
from synccore.models import Album, SyncStage
from synccore.rows import find_header, parse_row
from synccore.sources.base import NullFetchListener
from synccore.sources.http_limits import RequestDeadline, within_deadline
from synccore.sources.pacing import ReadQuota
from synccore.sources.sheets import (
    GoogleSheetSource,
    a1_rows,
    chunk_rows,
    grid_rows,
    next_chunk_rows,
    tabs_described,
)
from synccore.testing.fake_sheets import FakeWorksheet

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
    grid_requests = [q for _, _, q in fake_sheets.request_log if "includeGridData" in q]
    assert grid_requests and all(q["fields"][0].startswith("sheets(data(") for q in grid_requests)


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
    grid_requests = [q for _, _, q in fake_sheets.request_log if "includeGridData" in q]
    assert [q["ranges"][0] for q in grid_requests][:2] == [
        "'Releases'!A1:G200",
        "'Releases'!A201:G400",
    ]
    assert len(grid_requests) == 5  # 956 rows in chunks of 200
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
    source = GoogleSheetSource(settings, chunk_rows=100, quota=ReadQuota(3, window=1.0))
    seen = []
    _, status = run(settings, source=source, on_progress=seen.append)
    assert status.created == 502, status.error
    assert fake_sheets.status_counts[429] == 0  # paced, never refused
    assert fake_sheets.read_requests == 7  # metadata + 6 chunks
    assert any(
        p.message.startswith(
            "Pacing requests to stay within Google's read quota (3 per minute): next read in"
        )
        for p in seen
    )


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


def test_grid_rows_start_at_the_requested_row_when_google_omits_start_row():
    rows = grid_rows({"rowData": [{"values": [{"effectiveValue": {"stringValue": "a"}}]}]}, 0)
    assert rows[0].number == 1


def test_a1_ranges_quote_titles_and_name_the_last_column():
    assert a1_rows("Releases", 1, 500, 8) == "'Releases'!A1:H500"
    assert a1_rows("Bob's 2025", 501, 1000, 28) == "'Bob''s 2025'!A501:AB1000"


def test_chunk_size_follows_the_measured_response_size():
    assert next_chunk_rows(response_bytes=400_000, rows=1000, current=1000) == 4000  # 400 B/row
    assert next_chunk_rows(response_bytes=50_000_000, rows=1000, current=1000) == 100  # floor
    assert next_chunk_rows(response_bytes=1_000, rows=1000, current=1000) == 20_000  # ceiling


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


def cells(*texts: str) -> dict:
    return {"values": [{"effectiveValue": {"stringValue": t}} for t in texts]}


def test_a_chunk_answer_may_be_short_but_must_be_the_range_asked_for():
    answer = {"sheets": [{"data": [{"startRow": 200, "rowData": [cells("a"), {}, cells("b")]}]}]}
    assert [r.number for r in chunk_rows(answer, 200, 300)] == [201, 202, 203]
    assert chunk_rows({"sheets": [{"data": [{}]}]}, 0, 100) == []  # Google omits startRow 0
    assert chunk_rows({"sheets": [{"data": [{"startRow": 100}]}]}, 100, 200) == []


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"error": {"code": 503, "message": "Service unavailable"}},
        {"sheets": []},
        {"sheets": [{}]},
        {"sheets": [{"data": []}]},
        {"sheets": ["not a sheet"]},
        {"sheets": [{"data": [{}, {}]}]},
        {"sheets": [{"data": [{}]}, {"data": [{}]}]},
        {"sheets": [{"data": [{"rowData": [cells("a")]}]}]},  # startRow 0, asked for 100
        {"sheets": [{"data": [{"startRow": 150, "rowData": [cells("a")]}]}]},
        {"sheets": [{"data": [{"startRow": 100, "startColumn": 2}]}]},
        {"sheets": [{"data": [{"startRow": 100, "rowData": [cells("a")] * 101}]}]},
        {"sheets": [{"data": [{"startRow": 100, "rowData": ["not a row"]}]}]},
    ],
)
def test_a_chunk_answer_without_the_range_asked_for_is_a_broken_answer(answer):
    with pytest.raises(TransientSourceError) as raised:
        chunk_rows(answer, 100, 200)
    assert raised.value.kind == "broken" and "rows 101 to 200" in str(raised.value)


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
