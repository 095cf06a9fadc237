"""Every way reading a Google Sheet can fail: the exact words the user reads, the catalog left
as it was, and no secret (private key, API key, access token) in anything shown or logged."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from synccore.models import Album
from synccore.progress import shutdown_requested
from synccore.service import CatalogSync
from synccore.sources.sheets import (
    MAX_RESPONSE_BYTES,
    TARGET_RESPONSE_BYTES,
    GoogleSheetSource,
)
from synccore.standin import FakeWorksheet, make_service_account, other_private_key

from .support.google import KEY, google_settings, run, tracker_values
from .support.waiting import wait_for

EMAIL = "sync@test-project.iam.gserviceaccount.com"
API_KEY = "AIzaSy-test-api-key-0123456789abcdef"


@pytest.fixture
def sheet(fake_sheets):
    values, links = tracker_values(albums=30)
    fake_sheets.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, values, links)])
    fake_sheets.api_keys.add(API_KEY)
    return fake_sheets


@pytest.fixture
def settings(sqlite_url, sheet):
    return google_settings(sqlite_url, sheet, max_retries=3, progress_interval=0)


@pytest.fixture
def catalog(settings):
    """A catalog after one good sync; returns a function giving its current rows."""
    sync, status = run(settings)
    assert status.created == 32

    def snapshot() -> list[tuple]:
        with sync.db.session() as s:
            return [
                (a.key, a.content_hash, a.updated_at, a.removed_at)
                for a in s.scalars(select(Album).order_by(Album.key))
            ]

    return snapshot


def secrets_of(server, settings) -> list[str]:
    """Strings that must never be shown: key material, the API key, issued tokens."""
    found = [API_KEY, *server._tokens]
    if settings.credentials_info:
        pem_lines = settings.credentials_info["private_key"].strip().splitlines()[1:-1]
        found += [line for line in pem_lines if len(line) > 20]
    return found


def assert_failed_cleanly(
    settings, server, catalog_before, catalog_now, caplog, expected, source=None
):
    """Run a sync that must fail with `expected` (a regex) and change nothing."""
    with caplog.at_level(logging.DEBUG):
        sync, status = run(settings, source=source)
    assert status.status.value == "failed"
    assert re.fullmatch(expected, status.error), status.error
    assert status.message.startswith("Sync failed: ")
    assert catalog_now() == catalog_before
    shown = " ".join(
        [
            status.error,
            status.message,
            caplog.text,
            json.dumps([h.to_json() for h in sync.history()]),
        ]
    )
    for secret in secrets_of(server, settings):
        assert secret not in shown
    return status


def test_a_429_burst_is_retried_and_the_wait_is_shown(settings, sheet):
    sheet.inject(429, times=2, path_contains="/v4/")
    seen = []
    _, status = run(settings, on_progress=seen.append)
    assert status.status.value == "completed", status.error
    waits = [p.message for p in seen if "retrying" in p.message]
    assert waits[:2] == [
        "Rate limited by Google Sheets, retrying in 1 s (attempt 2 of 4)...",
        "Rate limited by Google Sheets, retrying in 1 s (attempt 3 of 4)...",
    ]


def test_retry_after_from_google_is_honoured(settings, sheet):
    sheet.inject(503, times=1, retry_after=2)
    seen = []
    _, status = run(settings, on_progress=seen.append)
    assert status.status.value == "completed"
    assert "Google Sheets answered HTTP 503, retrying in 2 s (attempt 2 of 4)..." in [
        p.message for p in seen
    ]


def test_persistent_429_fails_loudly_after_bounded_retries(settings, sheet, catalog, caplog):
    before = catalog()
    sheet.inject(429, times=100)
    assert_failed_cleanly(
        settings,
        sheet,
        before,
        catalog,
        caplog,
        (
            r"Google Sheets kept answering 'rate limit exceeded' \(HTTP 429\) after 4 attempts over "
            r"\d+ s\. Its read quota is 60 requests per minute per user, shared by everything that "
            r"uses these credentials\. Wait a minute and run the sync again, or ask for a higher "
            r"quota in the Google Cloud console\. The catalog was not changed\."
        ),
    )
    assert sheet.status_counts[429] == 4


def test_persistent_5xx_fails_after_bounded_retries(settings, sheet, catalog, caplog):
    before = catalog()
    sheet.inject(500, times=100)
    assert_failed_cleanly(
        settings,
        sheet,
        before,
        catalog,
        caplog,
        (
            r"Google Sheets answered HTTP 500 after 4 attempts over \d+ s: Google Sheets is having "
            r"trouble\. The catalog was not changed; run the sync again in a few minutes\."
        ),
    )


def test_total_retry_time_is_bounded_too(settings, sheet, catalog, caplog):
    before = catalog()
    sheet.inject(503, times=100, retry_after=30)
    slow_retries = settings.with_overrides(max_retries=10, max_retry_seconds=5)
    assert_failed_cleanly(
        slow_retries,
        sheet,
        before,
        catalog,
        caplog,
        r"Google Sheets answered HTTP 503 after 1 attempt over 0 s.*",
    )
    assert sheet.status_counts[503] == 1  # a 30 s Retry-After would blow the 5 s budget


def test_a_stalled_response_times_out(settings, sheet, catalog, caplog):
    before = catalog()
    sheet.inject("slow", times=100, delay=3)
    assert_failed_cleanly(
        settings.with_overrides(request_timeout=0.3),
        sheet,
        before,
        catalog,
        caplog,
        (
            r"Google Sheets did not answer within 0\.3 s after 4 attempts over \d+ s "
            r"\(http://127\.0\.0\.1:\d+\)\. Check this server's network connection and proxy "
            r"settings, then run the sync again\. The catalog was not changed\."
        ),
    )


def test_unreachable_api_fails_with_what_to_check(settings, catalog, caplog, sheet):
    before = catalog()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    assert_failed_cleanly(
        settings.with_overrides(sheets_api_url=closed),
        sheet,
        before,
        catalog,
        caplog,
        (
            r"Google Sheets could not be reached after 4 attempts over \d+ s "
            r"\(http://127\.0\.0\.1:\d+\)\. Check this server's network connection and proxy "
            r"settings, then run the sync again\. The catalog was not changed\."
        ),
    )


def test_sheet_not_shared_names_the_email_to_share_with(settings, sheet, catalog, caplog):
    before = catalog()
    sheet.add_spreadsheet(
        KEY,
        [FakeWorksheet("Releases", 0, tracker_values()[0])],
        shared_with={"someone-else@example.com"},
    )
    assert_failed_cleanly(
        settings,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            f"The service account {EMAIL} may not read this sheet. Open the sheet in Google Sheets, "
            f"click Share and add {EMAIL} as a Viewer, then run the sync again."
        ),
    )


def test_private_sheet_with_an_api_key_says_how_to_share(settings, sheet, catalog, caplog):
    before = catalog()
    sheet.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, tracker_values()[0])], public=False)
    with_key = settings.with_overrides(credentials_info=None, api_key=API_KEY)
    assert_failed_cleanly(
        with_key,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            "The sheet is not shared publicly, so an API key cannot read it. Share it as 'Anyone "
            "with the link can view', or configure a service account (GOOGLE_APPLICATION_CREDENTIALS)"
            " and share the sheet with its email."
        ),
    )


def test_wrong_key_says_to_check_the_url(settings, sheet, catalog, caplog):
    before = catalog()
    wrong = settings.with_overrides(
        sheet="https://docs.google.com/spreadsheets/d/1NoSuchSheet_xxxxxxxxxxxxxx/edit"
    )
    assert_failed_cleanly(
        wrong,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            "No spreadsheet exists with the key 1NoSuchSheet_xxxxxxxxxxxxxx (or it was deleted). "
            "Check SYNCCORE_SHEET: copy the URL from the browser's address bar while the sheet is "
            "open."
        ),
    )


def test_text_that_is_not_a_sheet_url(settings, sheet, catalog, caplog):
    before = catalog()
    assert_failed_cleanly(
        settings.with_overrides(sheet="my albums"),
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            "SYNCCORE_SHEET is not a Google Sheets URL or key. Copy the sheet's address from the "
            "browser, e.g. https://docs.google.com/spreadsheets/d/<key>/edit, or give a path ending "
            "in .csv."
        ),
    )


@pytest.mark.parametrize("fault", ["malformed", "truncated", "reset"])
def test_one_broken_response_is_retried(settings, sheet, fault):
    sheet.inject(fault, times=1, path_contains="/v4/")
    _, status = run(settings)
    assert status.status.value == "completed", status.error


def test_persistent_malformed_body_fails_without_touching_the_catalog(
    settings, sheet, catalog, caplog
):
    before = catalog()
    sheet.inject("malformed", times=100)
    assert_failed_cleanly(
        settings,
        sheet,
        before,
        catalog,
        caplog,
        (
            r"Google Sheets sent a response that is not valid JSON after 4 attempts over \d+ s\. A "
            r"proxy or firewall between this server and Google may be interfering\. The catalog was "
            r"not changed; run the sync again later\."
        ),
    )


def test_persistent_truncated_body_fails_without_touching_the_catalog(
    settings, sheet, catalog, caplog
):
    before = catalog()
    sheet.inject("truncated", times=100)
    assert_failed_cleanly(
        settings,
        sheet,
        before,
        catalog,
        caplog,
        (
            r"Google Sheets sent an incomplete response after 4 attempts over \d+ s\. A proxy or "
            r"firewall between this server and Google may be interfering\. The catalog was not "
            r"changed; run the sync again later\."
        ),
    )


def test_an_expired_token_is_refreshed_transparently(settings, sheet):
    sheet.inject(401, times=1, path_contains="/v4/")
    _, status = run(settings)
    assert status.status.value == "completed", status.error
    assert sheet.tokens_issued == 2


def test_a_rejected_key_says_to_create_a_new_one(settings, sheet, catalog, caplog):
    before = catalog()
    info = dict(settings.credentials_info, private_key=other_private_key())
    assert_failed_cleanly(
        settings.with_overrides(credentials_info=info),
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            f"Google rejected the credentials of the service account {EMAIL}. The key may have been "
            "deleted or disabled, or the server's clock may be wrong. Create a new JSON key for the "
            "service account and configure it (GOOGLE_APPLICATION_CREDENTIALS or "
            "[gcp_service_account])."
        ),
    )


def test_a_rejected_api_key(settings, sheet, catalog, caplog):
    before = catalog()
    bad_key = settings.with_overrides(credentials_info=None, api_key="AIzaSy-not-a-real-key")
    assert_failed_cleanly(
        bad_key,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            "Google rejected the API key in SYNCCORE_GOOGLE_API_KEY. Check that it was copied whole, "
            "that the Google Sheets API is enabled for its project, and that its restrictions allow "
            "the Sheets API."
        ),
    )


def test_no_credentials_at_all_says_how_to_configure(settings, sheet, catalog, caplog):
    before = catalog()
    bare = settings.with_overrides(credentials_info=None)
    assert_failed_cleanly(
        bare,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            "No Google credentials are configured, so the sheet cannot be read. Set "
            "GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or put the key under "
            "[gcp_service_account] in .streamlit/secrets.toml), or set SYNCCORE_GOOGLE_API_KEY for a "
            "sheet shared as 'Anyone with the link'."
        ),
    )


def test_missing_key_file(settings, sheet, catalog, caplog, tmp_path):
    before = catalog()
    path = tmp_path / "nope.json"
    missing = settings.with_overrides(credentials_info=None, credentials_file=str(path))
    assert_failed_cleanly(
        missing,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            f"GOOGLE_APPLICATION_CREDENTIALS points to {path}, which does not exist. Set "
            "GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or put the key under "
            "[gcp_service_account] in .streamlit/secrets.toml), or set SYNCCORE_GOOGLE_API_KEY for a "
            "sheet shared as 'Anyone with the link'."
        ),
    )


def test_key_file_that_is_not_json_is_not_quoted(settings, sheet, catalog, caplog, tmp_path):
    before = catalog()
    path = tmp_path / "key.json"
    path.write_text("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n")
    broken = settings.with_overrides(credentials_info=None, credentials_file=str(path))
    status = assert_failed_cleanly(
        broken,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            f"The service account key file {path} is not valid JSON. Download a new JSON key for "
            "the service account and use it unchanged."
        ),
    )
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in status.error


def test_key_file_works_like_the_secret(sheet, sqlite_url, tmp_path):
    path = tmp_path / "key.json"
    path.write_text(json.dumps(make_service_account(sheet)))
    _, status = run(
        google_settings(sqlite_url, sheet, credentials_info=None, credentials_file=str(path))
    )
    assert status.status.value == "completed", status.error


# -- a misbehaving API: answers without the cells asked for, trickles, floods, redirects ---------

CHUNK = 20  # rows per request in these tests: the 100-row sheet below takes five


@pytest.fixture
def chunked(sqlite_url, fake_sheets):
    """A catalog of 64 albums from a 100-row grid (68 rows used) synced in 20-row chunks;
    returns (settings, a maker of such sources, a snapshot of the catalog)."""
    values, links = tracker_values(albums=62)
    fake_sheets.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, values, links, row_count=100)])
    settings = google_settings(
        sqlite_url, fake_sheets, max_retries=3, progress_interval=0, read_quota_per_minute=100_000
    )

    def source(**options) -> GoogleSheetSource:
        return GoogleSheetSource(settings, chunk_rows=CHUNK, **options)

    sync, status = run(settings, source=source())
    assert status.status.value == "completed" and status.created == 64, status.error

    def snapshot() -> list[tuple]:
        with sync.db.session() as s:
            return [
                (a.key, a.content_hash, a.updated_at, a.removed_at)
                for a in s.scalars(select(Album).order_by(Album.key))
            ]

    assert len(snapshot()) == 64 and all(a[3] is None for a in snapshot())
    fake_sheets.reset_log()
    return settings, source, snapshot


def api_requests(server) -> list[str]:
    return [path for _, path, _ in server.request_log if path.startswith("/v4/")]


def values_ranges(server) -> list[list[str]]:
    """The ranges of each values.batchGet request, in order."""
    return [q["ranges"] for _, path, q in server.request_log if path.endswith(":batchGet")]


def grid_ranges(server) -> list[list[str]]:
    """The ranges of each grid-data (links and colors) request, in order."""
    return [q["ranges"] for _, _, q in server.request_log if "includeGridData" in q]


def shifted(answer: dict) -> dict:
    answer["valueRanges"][0]["range"] = "'Releases'!A31:G50"
    return answer


def cut_in_half(answer: dict) -> dict:
    """The answer with the second half of its rows gone, as a proxy cutting a list short."""
    for found in answer.get("valueRanges", []):
        rows = found.get("values") or []
        found["values"] = rows[: len(rows) // 2]
    for sheet in answer.get("sheets", []):
        for block in sheet.get("data", []):
            rows = block.get("rowData") or []
            block["rowData"] = rows[: len(rows) // 2]
    return answer


ASKED = "rows 21 to 40 of 'Releases'"
BROKEN_MIDDLE_CHUNK = {
    "empty object": ({}, f"Google Sheets answered without the values of {ASKED}"),
    "error object": (
        {"error": {"code": 500, "message": "Backend Error", "status": "INTERNAL"}},
        f"Google Sheets answered with an error instead of the values of {ASKED}",
    ),
    "no ranges": ({"valueRanges": []}, f"Google Sheets answered without the values of {ASKED}"),
    "a range without its name": (
        {"valueRanges": [{"values": [["a"]]}]},
        f"Google Sheets answered without the values of {ASKED}",
    ),
    "wrong start row": (
        shifted,
        f"Google Sheets answered with values starting elsewhere than row 21 when {ASKED} "
        "were asked for",
    ),
}


@pytest.mark.parametrize("answer", BROKEN_MIDDLE_CHUNK, ids=list(BROKEN_MIDDLE_CHUNK))
def test_a_malformed_200_for_a_middle_chunk_fails_and_removes_nothing(
    fake_sheets, chunked, caplog, answer
):
    settings, source, snapshot = chunked
    server = fake_sheets
    before = snapshot()
    body, reason = BROKEN_MIDDLE_CHUNK[answer]
    server.inject("answer", times=100, query_contains="!A21:", answer=body)
    assert_failed_cleanly(
        settings,
        server,
        before,
        snapshot,
        caplog,
        re.escape(reason)
        + (
            r" after 4 attempts over \d+ s\. A proxy or firewall between this server and Google "
            r"may be interfering\. The catalog was not changed; run the sync again later\."
        ),
        source=source(),
    )
    assert values_ranges(server).count(["'Releases'!A21:G40"]) == 4  # retried within the bounds


@pytest.mark.parametrize("answer", BROKEN_MIDDLE_CHUNK, ids=list(BROKEN_MIDDLE_CHUNK))
def test_one_malformed_200_is_retried_and_the_sync_completes(fake_sheets, chunked, answer):
    settings, source, snapshot = chunked
    fake_sheets.inject(
        "answer", times=1, query_contains="!A21:", answer=BROKEN_MIDDLE_CHUNK[answer][0]
    )
    _, status = run(settings, source=source())
    assert status.status.value == "completed", status.error
    assert (status.removed, status.unchanged) == (0, 64)
    assert all(removed is None for *_, removed in snapshot())


def test_a_metadata_answer_without_worksheets_fails_and_removes_nothing(
    fake_sheets, chunked, caplog
):
    settings, source, snapshot = chunked
    server = fake_sheets
    before = snapshot()
    server.inject("answer", times=100, query_contains="properties(title)", answer={})
    assert_failed_cleanly(
        settings,
        server,
        before,
        snapshot,
        caplog,
        r"Google Sheets described the spreadsheet without its worksheets after 4 attempts .*",
        source=source(),
    )


def test_rows_cut_from_a_middle_chunk_once_are_found_and_nothing_is_removed(fake_sheets, chunked):
    settings, source, snapshot = chunked
    server = fake_sheets
    server.inject("answer", times=1, query_contains="!A21:", answer=cut_in_half)
    _, status = run(settings, source=source())
    assert status.status.value == "completed", status.error
    assert (status.removed, status.unchanged) == (0, 64)
    assert all(removed is None for *_, removed in snapshot())
    assert values_ranges(server) == [
        ["'Releases'!A1:G20"],
        ["'Releases'!A21:G40"],  # cut to rows 21-30
        ["'Releases'!A31:G40", "'Releases'!A41:G60"],  # rows 31-40 must be proved empty...
        ["'Releases'!A31:G50"],  # ...and are not: read again from row 31, nothing passed on
        ["'Releases'!A51:G70"],  # ends at row 68
        ["'Releases'!A69:G70", "'Releases'!A71:G90"],  # rows 69-70 said empty twice
        ["'Releases'!A71:G90", "'Releases'!A91:G100"],
        ["'Releases'!A91:G100"],  # and so on to the end of the grid
    ]


def test_rows_cut_from_every_answer_fail_the_sync_and_remove_nothing(fake_sheets, chunked, caplog):
    settings, source, snapshot = chunked
    server = fake_sheets
    before = snapshot()
    server.inject("answer", times=1000, query_contains="UNFORMATTED_VALUE", answer=cut_in_half)
    assert_failed_cleanly(
        settings,
        server,
        before,
        snapshot,
        caplog,
        (
            r"Google Sheets left rows \d+ to \d+ of 'Releases' out of one answer but sent values "
            r"for them in another after 4 attempts over \d+ s\. A proxy or firewall between this server and "
            r"Google may be interfering\. The catalog was not changed; run the sync again later\."
        ),
        source=source(),
    )


def test_links_cut_from_an_answer_once_are_found_and_nothing_changes(fake_sheets, chunked):
    settings, source, snapshot = chunked
    before = snapshot()
    # the first links answer loses its second half, row 5's Spotify link with it
    fake_sheets.inject("answer", times=1, query_contains="includeGridData", answer=cut_in_half)
    _, status = run(settings, source=source())
    assert status.status.value == "completed", status.error
    assert (status.updated, status.removed, status.unchanged) == (0, 0, 64)
    assert snapshot() == before
    first, second = grid_ranges(fake_sheets)[:2]
    assert first[0] == "'Releases'!C4:G20" and second[0] == "'Releases'!C5:G20"  # asked again


def test_links_answers_without_the_links_fail_the_sync_and_change_nothing(
    fake_sheets, chunked, caplog
):
    settings, source, snapshot = chunked
    before = snapshot()
    fake_sheets.inject("answer", times=100, query_contains="includeGridData", answer={"sheets": []})
    assert_failed_cleanly(
        settings,
        fake_sheets,
        before,
        snapshot,
        caplog,
        r"Google Sheets answered without the links of rows 4 to 20 of 'Releases', or with them "
        r"starting elsewhere after 4 attempts over \d+ s\. .*",
        source=source(),
    )


def test_the_last_rows_cut_once_are_found_by_the_closing_check(fake_sheets, chunked):
    settings, source, snapshot = chunked
    server = fake_sheets
    server.inject("answer", times=1, query_contains="!A61:", answer=lambda a: cut_in_half(a))
    _, status = run(settings, source=source())
    assert status.status.value == "completed", status.error
    assert (status.removed, status.unchanged) == (0, 64)
    assert ["'Releases'!A65:G80", "'Releases'!A81:G100"] in values_ranges(server)  # asked again


def test_blank_rows_at_a_chunk_boundary_are_proved_empty_once(sqlite_url, fake_sheets):
    values, links = tracker_values(albums=62)
    values[35:45] = [[] for _ in range(10)]  # rows 36-45 blank: chunk 21-40 ends short
    fake_sheets.add_spreadsheet(KEY, [FakeWorksheet("Releases", 0, values, links)])
    settings = google_settings(sqlite_url, fake_sheets, read_quota_per_minute=100_000)
    _, status = run(settings, source=GoogleSheetSource(settings, chunk_rows=CHUNK))
    assert status.status.value == "completed" and status.created == 54, status.error
    assert values_ranges(fake_sheets) == [
        ["'Releases'!A1:G20"],
        ["'Releases'!A21:G40"],  # rows 21-35
        ["'Releases'!A36:G40", "'Releases'!A41:G60"],  # the proof that 36-40 are blank, and more
        ["'Releases'!A61:G68"],  # the last rows, all there: nothing to prove
    ]


def test_a_trickling_answer_ends_at_the_whole_request_deadline(settings, sheet, catalog, caplog):
    before = catalog()
    sheet.inject("trickle", times=100, delay=0.2)  # a byte every 0.2 s: no socket read times out
    started = time.monotonic()
    assert_failed_cleanly(
        settings.with_overrides(request_timeout=1.0, max_retries=1),
        sheet,
        before,
        catalog,
        caplog,
        (
            r"Google Sheets did not answer within 1 s after 2 attempts over \d+ s "
            r"\(http://127\.0\.0\.1:\d+\)\. Check this server's network connection and proxy "
            r"settings, then run the sync again\. The catalog was not changed\."
        ),
    )
    assert time.monotonic() - started < 2 * 1.0 + 5


def test_a_trickle_that_ends_within_the_deadline_is_read_whole(settings, sheet):
    sheet.inject("trickle", times=1, delay=0.001)
    _, status = run(settings.with_overrides(request_timeout=20.0))
    assert status.status.value == "completed", status.error
    assert sheet.status_counts[200] >= 2 and len(sheet.request_log) >= 2


def start_sync_on_a_trickle(settings, sheet):
    """A sync in a background thread, stuck in an answer trickling a byte every 0.2 s (about
    two minutes for the metadata alone) under a 60 s deadline."""
    sheet.inject("trickle", times=100, delay=0.2)
    sync = CatalogSync(settings.with_overrides(request_timeout=60.0))
    op_id = sync.start_sync("tester")
    wait_for(lambda: sheet.status_counts[200], 10, "the trickling answer to start")
    return sync, op_id


def test_cancel_ends_a_sync_waiting_on_a_trickling_answer(settings, sheet, catalog):
    before = catalog()
    sync, op_id = start_sync_on_a_trickle(settings, sheet)
    asked = time.monotonic()
    assert sync.cancel_sync("alice")
    wait_for(lambda: not sync.operation(op_id).is_active, 15, "the sync to end")
    assert time.monotonic() - asked < 5
    status = sync.operation(op_id)
    assert status.status.value == "cancelled", status.message
    assert catalog() == before


def test_a_stop_ends_a_sync_waiting_on_a_trickling_answer(settings, sheet, catalog):
    before = catalog()
    sync, op_id = start_sync_on_a_trickle(settings, sheet)
    asked = time.monotonic()
    shutdown_requested.set()  # what SIGTERM does; nothing here marks the sync from outside
    try:
        wait_for(lambda: not sync.operation(op_id).is_active, 15, "the sync to end")
        assert time.monotonic() - asked < 5
    finally:
        shutdown_requested.clear()
    status = sync.operation(op_id)
    assert status.status.value == "interrupted", status.message
    assert catalog() == before


@pytest.mark.parametrize("declared", [True, False], ids=["with length", "without length"])
def test_an_oversized_answer_is_refused_not_retried(settings, sheet, catalog, caplog, declared):
    before = catalog()
    sheet.reset_log()
    sheet.inject("huge", times=100, size=50_000_000, declare_length=declared)
    started = time.monotonic()
    assert_failed_cleanly(
        settings,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            "Google Sheets sent a response larger than 1 MB, so reading stopped there: the sheet "
            "was not read and the catalog was not changed. The sync asks for about 2 MB at a "
            "time; check SYNCCORE_SHEETS_API_URL and any proxy between this server and Google."
        ),
        source=GoogleSheetSource(settings, max_response_bytes=1_000_000),
    )
    assert len(api_requests(sheet)) == 1  # refused once, not retried
    assert sheet.huge_bytes_sent == 0  # the reader stopped long before the end
    assert time.monotonic() - started < 10


def test_the_default_cap_is_20_mb(settings, sheet, catalog, caplog):
    assert MAX_RESPONSE_BYTES == 10 * TARGET_RESPONSE_BYTES == 20_000_000
    before = catalog()
    sheet.inject("huge", times=1, size=21_000_000, declare_length=False)
    status = assert_failed_cleanly(
        settings, sheet, before, catalog, caplog, r"Google Sheets sent a response larger than .*"
    )
    assert status.error.startswith("Google Sheets sent a response larger than 20 MB, so reading")


class RecordingServer:
    """A second HTTP server on another port that records every request it receives."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._record()

            def do_POST(self) -> None:
                self._record()

            def _record(self) -> None:
                received.append((self.command, self.path, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def elsewhere():
    server = RecordingServer()
    yield server
    server.close()


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_a_redirect_from_the_api_is_refused_and_the_key_stays_here(
    settings, sheet, catalog, caplog, elsewhere, code
):
    before = catalog()
    sheet.reset_log()
    with_key = settings.with_overrides(credentials_info=None, api_key=API_KEY)
    sheet.inject(code, times=100, path_contains="/v4/", location=elsewhere.url + "/v4/x")
    assert_failed_cleanly(
        with_key,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            f"Google Sheets answered HTTP {code}, a redirect to another address. Google does not "
            "redirect these requests, so it was not followed and no credentials were sent "
            "there. Check SYNCCORE_SHEETS_API_URL and any proxy between this server and Google. "
            "The catalog was not changed."
        ),
    )
    assert elsewhere.received == []  # so x-goog-api-key never went there
    assert sheet.status_counts[code] == 1  # not retried
    assert len(api_requests(sheet)) == 1


def test_a_redirect_from_the_token_endpoint_is_refused(settings, sheet, catalog, caplog, elsewhere):
    before = catalog()
    sheet.inject(307, times=100, path_contains="/token", location=elsewhere.url + "/token")
    sheet.revoke_tokens()  # the next request asks for a new token
    assert_failed_cleanly(
        settings,
        sheet,
        before,
        catalog,
        caplog,
        re.escape(
            "Google's sign-in service answered HTTP 307, a redirect to another address. Google "
            "does not redirect these requests, so it was not followed and no credentials were "
            "sent there. Check the token endpoint of the credentials (token_uri in a service "
            "account key) and any proxy between this server and Google. The catalog was not "
            "changed."
        ),
    )
    assert elsewhere.received == []  # the signed assertion stayed here
