"""Every way reading a Google Sheet can fail: the exact words the user reads, the catalog left
as it was, and no secret (private key, API key, access token) in anything shown or logged."""

from __future__ import annotations

import json
import logging
import re
import socket

import pytest
from sqlalchemy import select

from synccore.models import Album
from synccore.testing.fake_sheets import FakeWorksheet, make_service_account, other_private_key

from .test_sheets_source import KEY, google_settings, run, tracker_values

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


def assert_failed_cleanly(settings, server, catalog_before, catalog_now, caplog, expected):
    """Run a sync that must fail with `expected` (a regex) and change nothing."""
    with caplog.at_level(logging.DEBUG):
        sync, status = run(settings)
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
