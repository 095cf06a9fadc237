"""The words a failed sync leaves: headlines that name what they quote whole, and a removal
guard that says when the configured sheet, not the sheet's content, changed."""

from __future__ import annotations

import pytest

from synccore import CatalogSync, SyncStatus
from synccore.errors import SyncError, first_sentence
from synccore.standin import FakeWorksheet

from .support.albums import HEADER, album, write_sheet_csv
from .support.sheets import API_KEY, SHEET_KEY, api_settings, sheet_api


@pytest.mark.parametrize(
    "text, sentence",
    [
        ('The spreadsheet has no worksheet "Vol. 2". Its worksheets are: "A".', None),
        ("Plain words. More words.", "Plain words."),
        ("One sentence only", "One sentence only."),
        ("Ends with a period.", "Ends with a period."),
        ("First line.\nSecond line.", "First line."),
        ("", ""),
    ],
)
def test_first_sentence_does_not_end_inside_quotes(text, sentence):
    expected = 'The spreadsheet has no worksheet "Vol. 2".' if sentence is None else sentence
    assert first_sentence(text) == expected


def test_an_explicit_headline_wins_over_the_first_sentence():
    error = SyncError('No worksheet "The "Vol. 2" tab". Pick another.', headline="Exact.")
    assert error.headline == "Exact."
    assert SyncError("Guessed. Rest.").headline == "Guessed."


def worksheets(**tabs: int) -> list[FakeWorksheet]:
    """Worksheets named as given, each holding that many albums."""
    return [
        FakeWorksheet(title, gid, [HEADER] + [album(gid * 1000 + n) for n in range(count)])
        for gid, (title, count) in enumerate(tabs.items())
    ]


@pytest.fixture
def api():
    with sheet_api() as server:
        yield server


def test_missing_worksheet_with_a_period_in_its_name_is_named_whole(api, sqlite_url):
    api.add_spreadsheet(SHEET_KEY, worksheets(**{"Vol. 1": 3}), public=True)
    sync = CatalogSync(api_settings(api.url, sqlite_url, worksheet="Vol. 2"))
    status = sync.run_sync("alice")
    sync.close()
    assert status.status is SyncStatus.FAILED
    assert status.message == 'Sync failed: The spreadsheet has no worksheet "Vol. 2".'
    assert status.error.startswith('The spreadsheet has no worksheet "Vol. 2". Its worksheets')


def test_guard_after_switching_worksheets_names_both(api, sqlite_url):
    api.add_spreadsheet(SHEET_KEY, worksheets(**{"Albums 2024": 20, "Albums 2025": 2}))
    first = CatalogSync(api_settings(api.url, sqlite_url, worksheet="Albums 2024"))
    assert first.run_sync("alice").status is SyncStatus.COMPLETED
    first.close()
    switched = CatalogSync(api_settings(api.url, sqlite_url, worksheet="Albums 2025"))
    status = switched.run_sync("alice")
    switched.close()
    assert status.status is SyncStatus.FAILED
    assert status.message == (
        "Sync failed: The configured sheet changed since the last successful sync, from "
        f'Google Sheet {SHEET_KEY}, worksheet "Albums 2024" to Google Sheet {SHEET_KEY}, '
        'worksheet "Albums 2025", and this sync would remove 20 of 20 albums.'
    )
    assert "truncated" not in status.error
    assert "synccore sync --force" in status.error


def test_guard_after_switching_csv_files_names_both(tmp_path, sqlite_url):
    old = write_sheet_csv(tmp_path / "old.csv", [album(n) for n in range(10)])
    new = write_sheet_csv(tmp_path / "new.csv", [album(100 + n) for n in range(3)])
    sync = CatalogSync(api_settings("http://unused", sqlite_url, sheet=str(old)))
    assert sync.run_sync("alice").status is SyncStatus.COMPLETED
    sync.close()
    sync = CatalogSync(api_settings("http://unused", sqlite_url, sheet=str(new)))
    status = sync.run_sync("alice")
    assert status.status is SyncStatus.FAILED
    assert f"from CSV file {old} to CSV file {new}" in status.message
    assert len(sync.albums().items) == 10  # nothing removed
    sync.close()


def test_guard_on_the_same_sheet_still_suspects_truncation(tmp_path, sqlite_url):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(10)])
    sync = CatalogSync(api_settings("http://unused", sqlite_url, sheet=str(sheet)))
    assert sync.run_sync("alice").status is SyncStatus.COMPLETED
    write_sheet_csv(sheet, [album(n) for n in range(3)])
    status = sync.run_sync("alice")
    sync.close()
    assert status.status is SyncStatus.FAILED
    assert "changed since the last successful sync" not in status.error
    assert "the sheet was truncated or the wrong worksheet is configured" in status.error


def test_api_key_is_not_in_the_source_names(api, sqlite_url):
    api.add_spreadsheet(SHEET_KEY, worksheets(**{"A": 5, "B": 1}))
    for tab in ("A", "B"):
        sync = CatalogSync(api_settings(api.url, sqlite_url, worksheet=tab))
        status = sync.run_sync("alice")
        sync.close()
    assert API_KEY not in status.message + (status.error or "")
