"""The removal guard's page flow in a real browser (Debian's Chromium, Playwright, `streamlit
run app.py`): a tracker-shaped sheet on the fake Sheets API loses most of its rows; Sync Now
is refused; the page lists the albums it would remove and finds one by search; "Remove them
and sync" asks for a confirmation naming the count; the confirmed sync runs with force and is
recorded as confirmed by the person."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from dashboard.context import local_user_name  # noqa: E402
from synccore import CatalogSync, SyncStatus, load_settings  # noqa: E402
from synccore.demo import tracker_worksheets  # noqa: E402

from .support.browser import (  # noqa: E402
    StreamlitServer,
    launch_chromium,
    require_chromium,
    screenshot,
    wait_for_app_run,
)
from .support.sheets import API_KEY, SHEET_KEY, sheet_api  # noqa: E402
from .support.tracker_edits import album_rows, delete_row, one_year_tracker  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FORMULA = "=1+2 Formula"
EXPECT_TIMEOUT_MS = 30_000


@pytest.fixture
def browser():
    require_chromium()
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
    expect.set_options(timeout=5_000)


def test_guard_refusal_list_confirm_and_forced_sync(browser, tmp_path):
    tabs = one_year_tracker(30)
    tab = tabs[0]
    rows = album_rows(tab)
    tab.values[rows[-1]][1] = FORMULA  # sheet text that a spreadsheet would run
    with sheet_api() as api:
        api.add_spreadsheet(SHEET_KEY, tracker_worksheets(tabs), public=True)
        env = {
            "SYNCCORE_SHEET": SHEET_KEY,
            "SYNCCORE_WORKSHEET": "*",
            "SYNCCORE_SHEETS_API_URL": api.url,
            "SYNCCORE_GOOGLE_API_KEY": API_KEY,
            "SYNCCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
            "SYNCCORE_READ_QUOTA_PER_MINUTE": "100000",
        }
        sync = CatalogSync(load_settings({}, environ=env))
        assert sync.run_sync("tester").status is SyncStatus.COMPLETED
        kept = rows[:10]
        gone = [tuple(tab.values[r][:2]) for r in rows[10:]]
        for r in reversed(rows[10:]):
            delete_row(tab, r)
        api.add_spreadsheet(SHEET_KEY, tracker_worksheets(tabs), public=True)
        assert len(kept) == 10 and len(gone) == 20

        server = StreamlitServer(tmp_path / "app", env)
        (tmp_path / "app").mkdir()
        server.start()
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(server.url)
            wait_for_app_run(page)
            page.locator(".st-key-sync-now").get_by_role("button").click()
            expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
                "SYNCCORE_REMOVAL_GUARD"
            )
            wait_for_app_run(page)
            expect(page.get_by_text("Albums this sync would have removed (20)")).to_be_visible()
            artist, title = gone[5]
            search = page.get_by_label("Search artist or album")
            search.fill(title)
            search.press("Enter")
            wait_for_app_run(page)
            table = page.get_by_test_id("stDataFrame").last
            expect(table).to_contain_text(title)
            screenshot(page, "guard-1-list")
            with page.expect_download() as download:
                page.get_by_role("button", name="Download the list (CSV)").click()
            text = Path(download.value.path()).read_text(encoding="utf-8-sig")
            assert text.splitlines()[0] == "Artist,Album"
            assert len(text.splitlines()) == 21  # the whole list, not the search's one row
            assert f"'{FORMULA}" in text  # neutralised
            assert sync.albums(limit=100).total == 30  # the refusal removed nothing

            page.get_by_role("button", name="Remove them and sync").click()
            wait_for_app_run(page)
            expect(page.get_by_text("Remove 20 albums from the catalog and sync?")).to_be_visible()
            confirm = page.get_by_role("button", name="Yes, remove 20 albums and sync")
            screenshot(page, "guard-2-confirm")
            confirm.click()
            expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
                "Sync complete!", timeout=60_000
            )
            screenshot(page, "guard-3-forced")
            page.close()
        finally:
            server.stop()
        forced = sync.history()[0]
        assert forced.force and forced.removed == 20
        assert forced.triggered_by == local_user_name()
        assert sync.albums(limit=100).total == 10
        removed = {(c.artist, c.title) for c in sync.changes(forced.operation_id)}
        assert removed == set(gone)
        sync.close()
