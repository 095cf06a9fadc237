"""An unchanged sheet is not read again: a scheduled or command-line sync asks Google Drive
for the spreadsheet's modifiedTime (one request to the stand-in's Drive `files.get`) and
ends as "Already up to date" when it matches the last successful sync's. Sync Now from the
page, --force, SYNCCORE_SKIP_UNCHANGED=0 and a refused Drive request all read everything."""

from __future__ import annotations

import logging

import pytest

from synccore import CatalogSync, SyncStatus
from synccore.config import load_settings

from .support.sheets import SHEET_KEY, api_settings, serve_tracker, sheet_api
from .support.tracker_edits import GENRE_COLUMN, album_rows, one_year_tracker

DRIVE_PATH = f"/drive/v3/files/{SHEET_KEY}"


def paths(api) -> list[str]:
    return [path for _, path, _ in api.request_log]


def make_sync(api, database_url, **overrides) -> CatalogSync:
    return CatalogSync(api_settings(api.url, database_url, worksheet="*", **overrides))


def test_unchanged_sheet_costs_one_drive_request_and_no_cell_request(database_url):
    tabs = one_year_tracker(20)
    with sheet_api() as api:
        serve_tracker(api, tabs)
        sync = make_sync(api, database_url)
        first = sync.run_sync("tester", trigger="cli")
        assert first.status is SyncStatus.COMPLETED and first.created == 20
        assert DRIVE_PATH in paths(api)

        api.reset_log()
        again = sync.run_sync("tester", trigger="schedule")
        assert again.status is SyncStatus.COMPLETED
        assert again.message.startswith("Already up to date: the sheet has not changed since ")
        assert paths(api) == [DRIVE_PATH]  # one metadata request, no cell request
        assert api.request_log[0][2]["fields"] == ["modifiedTime"]
        assert sync.last_synced_at() == again.finished_at

        tab = tabs[0]
        tab.values[album_rows(tab)[0]][GENRE_COLUMN] = "Zeuhl"
        serve_tracker(api, tabs)  # an edit: Drive's modifiedTime moves on
        api.reset_log()
        edited = sync.run_sync("tester", trigger="cli")
        assert edited.updated == 1, edited.message
        assert len(paths(api)) > 1
        sync.close()


@pytest.mark.parametrize(
    ("how", "options"),
    [
        ("Sync Now", {"trigger": "dashboard"}),
        ("--force", {"trigger": "cli", "force": True}),
        ("the API", {}),
    ],
)
def test_sync_now_force_and_the_api_read_everything(sqlite_url, how, options):
    with sheet_api() as api:
        serve_tracker(api, one_year_tracker(10))
        sync = make_sync(api, sqlite_url)
        sync.run_sync("tester", trigger="cli")
        api.reset_log()
        again = sync.run_sync("tester", **options)
        assert again.unchanged == 10, how
        assert f"/v4/spreadsheets/{SHEET_KEY}" in paths(api), how
        sync.close()


def test_skip_unchanged_off_asks_drive_nothing(sqlite_url):
    with sheet_api() as api:
        serve_tracker(api, one_year_tracker(10))
        settings = load_settings(
            {},
            environ={
                "SYNCCORE_SHEET": SHEET_KEY,
                "SYNCCORE_WORKSHEET": "*",
                "SYNCCORE_SHEETS_API_URL": api.url,
                "SYNCCORE_GOOGLE_API_KEY": api_settings(api.url, sqlite_url).api_key or "",
                "SYNCCORE_DATABASE_URL": sqlite_url,
                "SYNCCORE_SKIP_UNCHANGED": "0",
            },
        )
        assert settings.skip_unchanged is False
        sync = CatalogSync(settings)
        sync.run_sync("tester", trigger="cli")
        again = sync.run_sync("tester", trigger="cli")
        assert again.unchanged == 10
        assert DRIVE_PATH not in paths(api)
        sync.close()


def test_refused_drive_request_reads_everything_and_says_why_once(sqlite_url, caplog):
    with sheet_api(drive_enabled=False) as api:
        serve_tracker(api, one_year_tracker(10))
        sync = make_sync(api, sqlite_url)
        with caplog.at_level(logging.WARNING, logger="synccore.unchanged"):
            sync.run_sync("tester", trigger="cli")
            again = sync.run_sync("tester", trigger="cli")
        assert again.unchanged == 10
        why = [r.getMessage() for r in caplog.records if r.name == "synccore.unchanged"]
        assert len(why) == 1, why
        assert "Drive answered 403" in why[0] and "SYNCCORE_SKIP_UNCHANGED=0" in why[0]
        sync.close()


def test_changed_read_settings_read_the_unchanged_sheet_again(sqlite_url):
    with sheet_api() as api:
        serve_tracker(api, one_year_tracker(10))
        sync = make_sync(api, sqlite_url)
        sync.run_sync("tester", trigger="cli")
        sync.close()
        other = make_sync(api, sqlite_url, location_countries={"Somewhere": "Norway"})
        again = other.run_sync("tester", trigger="cli")
        assert not again.message.startswith("Already up to date"), again.message
        other.close()


@pytest.mark.parametrize(
    ("text", "expected"), [("0", False), ("off", False), ("1", True), ("", True)]
)
def test_skip_unchanged_setting(text, expected):
    assert load_settings({}, environ={"SYNCCORE_SKIP_UNCHANGED": text}).skip_unchanged is expected


def test_a_bad_skip_unchanged_setting_names_itself():
    from synccore.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="SYNCCORE_SKIP_UNCHANGED must be 1 or 0"):
        load_settings({}, environ={"SYNCCORE_SKIP_UNCHANGED": "sometimes"})
