"""The dashboard in a real browser: Debian's Chromium driven by Playwright against
`streamlit run app.py` on 127.0.0.1.

Two servers: one reads a 20,000-album sheet from the fake Sheets API (with latency, so a sync
takes several seconds; it also holds an album named like an HTML tag), and one runs with no
configuration at all on the bundled demo sheet, as a new user would start it.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from dashboard.lastsync import last_synced_html  # noqa: E402
from synccore import CatalogSync, load_settings  # noqa: E402
from synccore.standin import FakeSheetsServer, FakeWorksheet  # noqa: E402

from .support.albums import HEADER, album  # noqa: E402
from .support.browser import (  # noqa: E402
    FrameCounter,
    StreamlitServer,
    launch_chromium,
    require_chromium,
    screenshot,
    wait_for_app_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
EXPECT_TIMEOUT_MS = 15_000  # a generous wait on a busy machine, not a speed check

SHEET_KEY = "browser0test0sheet0key000000"
API_KEY = "AIzaSy-browser-test-api-key-0123456789"
XSS_TITLE = "<img src=x onerror=alert(1)>"
FORMULA_TITLE = '=HYPERLINK("http://evil.example/x","Click")'
ALBUMS = 20_000  # three grid requests: step 2 starts with the first, 4 s before the read ends
LATENCY = 2.0  # seconds per Sheets API request: the sync spans several 2 s refreshes
IDLE_WATCH_MS = 5_000
VIEWPORT = {"width": 1280, "height": 1400}


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
    expect.set_options(timeout=5_000)  # Playwright's default, for other modules


@pytest.fixture(scope="module")
def sheets_api():
    rows = [album(n, date=f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}") for n in range(ALBUMS)]
    rows.append(album(ALBUMS, album=XSS_TITLE, artist="Markup Tester", date="2025-06-01"))
    rows.append(album(ALBUMS + 1, album=FORMULA_TITLE, artist="Formula Tester", date="2025-06-02"))
    server = FakeSheetsServer(latency=LATENCY, api_keys=[API_KEY])
    server.add_spreadsheet(SHEET_KEY, [FakeWorksheet("Albums", 0, [HEADER, *rows])], public=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, sheets_api):
    workdir = tmp_path_factory.mktemp("dashboard")
    env = {
        "SYNCCORE_SHEET": SHEET_KEY,
        "SYNCCORE_SHEETS_API_URL": sheets_api.url,
        "SYNCCORE_GOOGLE_API_KEY": API_KEY,
        "SYNCCORE_DATABASE_URL": f"sqlite:///{workdir / 'catalog.db'}",
        "SYNCCORE_READ_QUOTA_PER_MINUTE": "100000",
    }
    server = StreamlitServer(workdir, env).start()
    server.settings = env
    yield server
    server.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    server = StreamlitServer(tmp_path_factory.mktemp("demo")).start()  # no settings at all
    yield server
    server.stop()


def open_app(browser, url: str) -> tuple[Page, FrameCounter]:
    page = browser.new_page(viewport=VIEWPORT)
    frames = FrameCounter(page)  # attached before the websocket opens
    page.goto(url)
    wait_for_app_run(page)
    return page, frames


def sync_button(page: Page):
    return page.locator(".st-key-sync-now").get_by_role("button")


def last_synced_text(page: Page) -> str:
    frame = page.frame_locator("iframe[srcdoc*='last-synced']")
    return frame.locator("#last-synced").inner_text()


def status_snapshot(page: Page) -> tuple[str, str]:
    """(stage heading, progress text) of the live status panel, or ("", "") when gone."""
    panel = page.locator(".st-key-sync-progress")
    if not panel.count():
        return "", ""
    try:
        heading = panel.locator("[data-testid='stMarkdownContainer']").first.inner_text(
            timeout=1_000
        )
        progress = panel.get_by_test_id("stProgress").inner_text(timeout=1_000)
    except Exception:  # noqa: BLE001 - the panel went away between count() and the read: the sync ended
        return "", ""
    return heading.strip(), progress.strip()


def test_press_sync_watch_it_run_and_a_second_tab_sees_it(browser, dashboard):
    page, frames = open_app(browser, dashboard.url)
    expect(sync_button(page)).to_contain_text("Sync Now")
    expect(sync_button(page)).to_be_enabled()
    assert last_synced_text(page) == "Never synced"
    screenshot(page, "sync-1-idle")

    # An idle page does not poll: no rerun requests at all while nobody touches it.
    before = frames.sent
    page.wait_for_timeout(IDLE_WATCH_MS)
    assert frames.sent == before, "the idle Sync page sent messages (it is polling)"

    sync_button(page).click()
    expect(sync_button(page)).to_contain_text("Syncing...")
    expect(sync_button(page)).to_be_disabled()
    expect(page.get_by_role("button", name="Cancel")).to_be_enabled()

    second, second_frames = open_app(browser, dashboard.url)  # another tab, mid-sync
    second_loaded = second_frames.sent  # the initial run's messages; nothing is clicked after
    expect(sync_button(second)).to_contain_text("Syncing...")
    expect(sync_button(second)).to_be_disabled()
    expect(second.locator(".st-key-sync-progress")).to_be_visible()
    screenshot(second, "sync-2-second-tab")

    seen: list[tuple[str, str]] = []
    while "Sync Now" not in sync_button(page).inner_text():
        snapshot = status_snapshot(page)
        if snapshot[0] and (not seen or seen[-1] != snapshot):
            seen.append(snapshot)
            if len(seen) == 2:
                screenshot(page, "sync-3-running")
        page.wait_for_timeout(200)
        assert len(seen) < 500
    stages = [heading for heading, _ in seen]
    assert len(seen) >= 2, f"the status did not move: {seen}"
    assert any(h.startswith("Step 1 of 3") for h in stages) or "Starting..." in stages
    assert any(h.startswith(("Step 2 of 3", "Step 3 of 3")) or "rows read" in p for h, p in seen), (
        f"no progress shown: {seen}"
    )

    wait_for_app_run(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        f"Sync complete! {ALBUMS + 2:,} albums synced"
    )
    expect(sync_button(page)).to_be_enabled()
    assert last_synced_text(page).startswith("Last synced: ")
    assert last_synced_text(page) != "Never synced"
    assert (
        page.frame_locator("iframe[srcdoc*='last-synced']")
        .locator("#last-synced")
        .get_attribute("title")
    )  # the exact time, on hover
    screenshot(page, "sync-4-complete")

    # The second tab was never touched: its reruns came from the autorefresh alone.
    expect(sync_button(second)).to_contain_text("Sync Now", timeout=30_000)
    wait_for_app_run(second)
    assert second_frames.sent > second_loaded, "the second tab never reran during the sync"
    expect(second.get_by_test_id("stAlertContentSuccess")).to_be_visible()

    # Once the sync has ended, both tabs stop polling.
    before, second_before = frames.sent, second_frames.sent
    page.wait_for_timeout(IDLE_WATCH_MS)
    assert (frames.sent, second_frames.sent) == (before, second_before), "still polling"
    second.close()
    page.close()


def test_cancel_stops_a_running_sync(browser, dashboard):
    page, _ = open_app(browser, dashboard.url)
    expect(sync_button(page)).to_be_enabled(timeout=60_000)  # an earlier sync has ended
    sync_button(page).click()
    expect(sync_button(page)).to_contain_text("Syncing...")
    page.locator(".st-key-cancel-sync").get_by_role("button").click()
    expect(sync_button(page)).to_contain_text("Sync Now", timeout=30_000)
    wait_for_app_run(page)
    expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text("Sync cancelled by")
    screenshot(page, "sync-5-cancelled")
    page.close()


def test_rate_limit_wait_shows_as_such_and_the_sync_carries_on(browser, dashboard, sheets_api):
    page, _ = open_app(browser, dashboard.url)
    expect(sync_button(page)).to_be_enabled(timeout=60_000)
    sheets_api.inject(429, times=1, retry_after=6)  # Google says: retry in 6 s
    sync_button(page).click()
    wait = page.locator(".st-key-sync-progress").get_by_test_id("stAlertContentWarning")
    expect(wait).to_contain_text("Rate limited by Google Sheets, retrying in", timeout=20_000)
    screenshot(page, "sync-6-rate-limited")
    expect(sync_button(page)).to_contain_text("Sync Now", timeout=60_000)
    wait_for_app_run(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Sync complete!")
    page.close()


def ensure_synced(dashboard) -> None:
    engine = CatalogSync(load_settings(environ=dashboard.settings))
    try:
        status = engine.current_status()
        if status is None or not status.status.succeeded:
            engine.run_sync("browser test")
    finally:
        engine.close()


def test_album_named_like_html_renders_as_text(browser, dashboard):
    ensure_synced(dashboard)
    page, _ = open_app(browser, dashboard.url + "/catalog")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    search = page.get_by_label("Search artist or album")
    search.fill("onerror")
    search.press("Enter")
    wait_for_app_run(page)
    expect(page.get_by_text("Showing 1-1 of 1 album")).to_be_visible()

    grid = page.get_by_test_id("stDataFrame")
    expect(grid).to_be_visible()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection box
    wait_for_app_run(page)
    details = page.locator(".st-key-album-details")
    expect(details).to_be_visible()
    expect(details.get_by_text(XSS_TITLE, exact=True)).to_be_visible()
    expect(details).to_contain_text("Markup Tester")
    assert page.locator("img[src='x']").count() == 0
    page.wait_for_timeout(500)  # give a broken image's onerror time to fire, were there one
    assert dialogs == []
    screenshot(page, "catalog-html-album-as-text")
    page.close()


def assert_no_builtin_export(page: Page, table) -> None:
    """Hovering a table shows its toolbar (search, fullscreen) but no "Download as CSV"."""
    table.hover()
    expect(table.get_by_role("button", name="Fullscreen")).to_be_visible()
    expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)


def downloaded_csv(page: Page, label: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_tables_export_only_neutralised_csv(browser, dashboard):
    ensure_synced(dashboard)
    page, _ = open_app(browser, dashboard.url + "/catalog")
    search = page.get_by_label("Search artist or album")
    search.fill("Formula Tester")
    search.press("Enter")
    wait_for_app_run(page)
    expect(page.get_by_text("Showing 1-1 of 1 album")).to_be_visible()
    assert_no_builtin_export(page, page.get_by_test_id("stDataFrame"))
    rows = downloaded_csv(page, "Download this page (CSV)")
    album_column = rows[0].index("Album")
    assert [r[album_column] for r in rows[1:]] == ["'" + FORMULA_TITLE]
    screenshot(page, "catalog-no-builtin-export")

    page.get_by_role("link", name="History").click()
    wait_for_app_run(page)
    assert_no_builtin_export(page, page.get_by_test_id("stDataFrame").first)
    rows = downloaded_csv(page, "Download history (CSV)")
    assert rows[0][:3] == ["Sync", "Started", "Status"] and len(rows) >= 2
    page.close()


def test_new_user_runs_the_demo_with_zero_configuration(browser, demo):
    page, _ = open_app(browser, demo.url)
    expect(page.get_by_text("This is the demo:")).to_be_visible()
    expect(page.get_by_text("No sync has run yet")).to_be_visible()
    sync_button(page).click()
    expect(sync_button(page)).to_contain_text("Syncing...")
    expect(page.locator(".st-key-sync-progress")).to_be_visible()
    expect(sync_button(page)).to_contain_text("Sync Now", timeout=90_000)
    wait_for_app_run(page)
    expect(page.get_by_text("Sync completed with warnings")).to_be_visible()
    page.get_by_text("Failed rows (6)", exact=True).click()  # the demo's six bad rows
    expect(page.get_by_role("button", name="Download failed rows (CSV)")).to_be_visible()
    screenshot(page, "demo-1-synced")

    page.get_by_role("link", name="Catalog").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Showing 1-50 of")).to_be_visible()
    screenshot(page, "demo-2-catalog")

    page.get_by_role("link", name="History").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Sync details and failed rows")).to_be_visible()
    screenshot(page, "demo-3-history")
    page.close()


def test_last_synced_is_relative_ages_every_minute_and_shows_the_exact_time(browser):
    now = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
    page = browser.new_page(locale="en-US", timezone_id="Europe/Stockholm")
    page.clock.install(time=now)
    page.set_content(last_synced_html(now - timedelta(hours=2, minutes=5)))
    label = page.locator("#last-synced")
    expect(label).to_have_text("Last synced: 2 hours ago")
    assert "March 14, 2025" in label.get_attribute("title")  # exact local time on hover
    assert "10:55:00" in label.get_attribute("title")  # 09:55 UTC in Stockholm
    page.clock.run_for("55:00")  # no reload, no rerun: the page's own timer redraws it
    expect(label).to_have_text("Last synced: 3 hours ago")
    later = now + timedelta(minutes=55)  # the page's clock now
    page.set_content(last_synced_html(later - timedelta(seconds=20)))
    expect(label).to_have_text("Last synced: just now")
    page.clock.run_for("01:00")
    expect(label).to_have_text("Last synced: 1 minute ago")
    page.set_content(last_synced_html(None))
    expect(label).to_have_text("Never synced")
    page.close()
