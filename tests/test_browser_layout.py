"""What a user sees at the widths they use, in Chromium against `streamlit run app.py` on the
bundled demo (its note shown): page titles in the navigation, whole metric values at 1280,
1024 and 700 px, a running sync's progress on a 390x844 phone without scrolling, one "Last
synced" through two syncs, the failed rows drawn with the outcome, History's axis and counts,
the Catalog on a phone, and an idle page learning of a sync started elsewhere.

The syncs the page does not start are claimed by hand on the same database, so their numbers
and stages are exactly what the test says.
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from dashboard.follow import WATCH_SECONDS  # noqa: E402
from synccore import CatalogSync, SyncStage, SyncStatus, load_settings, operations  # noqa: E402
from synccore.operations import Progress  # noqa: E402

from .support.browser import (  # noqa: E402
    StreamlitServer,
    launch_chromium,
    require_chromium,
    screenshot,
    wait_for_app_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}
BIG = Progress(
    SyncStage.PROCESSING,
    "Syncing album 1,234,567 of 1,250,000...",
    processed=1_234_567,
    total=1_250_000,
    created=1_000_001,
    updated=200_002,
    unchanged=34_564,
    failed=12_345,
)


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo (no sheet configured) on a database this test can also write to."""
    workdir = tmp_path_factory.mktemp("layout")
    env = {
        "SYNCCORE_DATABASE_URL": f"sqlite:///{workdir / 'catalog.db'}",
        "SYNCCORE_HEARTBEAT_TIMEOUT": "600",  # hand-claimed syncs send no heartbeats
    }
    server = StreamlitServer(workdir, env).start()
    engine = CatalogSync(load_settings(env, environ={}))
    server.engine = engine
    yield server
    engine.close()
    server.stop()


def open_page(browser, url: str, viewport: dict) -> Page:
    page = browser.new_page(viewport=viewport, locale="en-US")
    page.goto(url)
    wait_for_app_run(page)
    return page


def sync_button(page: Page):
    return page.locator(".st-key-sync-now").get_by_role("button")


def claim(engine: CatalogSync, progress: Progress, who: str = "carol") -> int:
    op_id = operations.claim(engine.db, engine.settings, who)
    operations.write_progress(engine.db, op_id, progress)
    return op_id


def end(engine: CatalogSync, op_id: int) -> None:
    operations.finish(engine.db, op_id, SyncStatus.CANCELLED, "Sync cancelled by the test.")


def test_first_visit_names_the_pages_by_their_titles(browser, demo):
    """The server's first session: without client.showSidebarNavigation = false, the `pages/`
    folder makes Streamlit wrap the app in its file-name navigation ("app", "catalog",
    "history") on this run."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(
        """window.__navSeen = [];
        new MutationObserver(() => {
          document.querySelectorAll("[data-testid='stSidebarNav'], [data-testid='stTopNavLink']")
            .forEach(e => window.__navSeen.push(e.innerText));
        }).observe(document, {subtree: true, childList: true, characterData: true});"""
    )
    page.goto(demo.url)
    wait_for_app_run(page)
    expect(page.get_by_test_id("stTopNavLink")).to_have_count(3)
    lines = {line.strip() for text in page.evaluate("window.__navSeen") for line in text.split()}
    assert {"Sync", "Catalog", "History"} <= lines
    assert not lines & {"app", "catalog"}, lines  # ("history" is also the icon's name)
    page.close()


def test_metric_values_are_whole_down_to_700_px_and_wrap_on_a_phone(browser, demo):
    op_id = claim(demo.engine, BIG)
    try:
        for width in (1280, 1024, 700):
            page = open_page(browser, demo.url, {"width": width, "height": 900})
            values = page.locator(".st-key-sync-metrics [data-testid='stMetricValue']")
            expect(values).to_have_count(5)
            assert values.all_inner_texts() == [
                "1,234,567",
                "1,000,001",
                "200,002",
                "34,564",
                "12,345",
            ]
            for value in values.all():
                scroll, client = value.evaluate("e => [e.scrollWidth, e.clientWidth]")
                assert scroll <= client, f"{value.inner_text()} cut at {width} px"
                box = value.bounding_box()
                assert box and box["x"] + box["width"] <= width
            screenshot(page, f"layout-metrics-{width}")
            page.close()

        page = open_page(browser, demo.url, PHONE)
        expect(page.get_by_text("This is the demo:")).to_be_visible()
        bar = page.locator(".st-key-sync-progress [data-testid='stProgress']")
        expect(bar).to_contain_text("Syncing album 1,234,567 of 1,250,000...")
        box = bar.bounding_box()
        assert box and box["y"] + box["height"] <= PHONE["height"], box  # no scrolling
        metrics = page.locator(".st-key-sync-metrics [data-testid='stMetric']").all()
        rows = {round(m.bounding_box()["y"]) for m in metrics}
        assert len(rows) < len(metrics), "one metric per row"
        screenshot(page, "layout-phone-running")
        page.close()
    finally:
        end(demo.engine, op_id)


def sample_until_the_outcome(page: Page, seen: list, settle_s: float = 3.0) -> None:
    """Record, from the click until the sync has ended and `settle_s` more, the "Last
    synced" elements (a rerun draws a moved element anew while its old copy lingers) and,
    once the new outcome shows, the empty grey boxes (skeletons) in sight."""
    started = ended_at = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        frames = page.locator("iframe[srcdoc*='last-synced']").count()
        running = page.locator(".st-key-sync-progress").count()
        started = started or running
        ended = bool(started and not running and page.get_by_text("Sync completed").count())
        boxes = page.locator("[data-testid='stSkeleton']:visible").count()
        seen.append((frames, ended, boxes))
        if ended_at is None and ended:
            ended_at = time.monotonic()
        if ended_at is not None and time.monotonic() - ended_at > settle_s:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the sync did not end: {seen[-5:]}")


def test_one_last_synced_and_no_empty_box_through_two_syncs(browser, demo):
    page = open_page(browser, demo.url, {"width": 1280, "height": 1800})
    for _ in range(2):  # the first ends "Never synced", the second starts from "just now"
        seen: list = []
        sync_button(page).click()
        sample_until_the_outcome(page, seen)
        assert {frames for frames, _, _ in seen} == {1}, seen
        assert all(boxes == 0 for _, ended, boxes in seen if ended), seen
        frame = page.frame_locator("iframe[srcdoc*='last-synced']")
        expect(frame.locator("#last-synced")).to_have_text("Last synced: just now")
    wait_for_app_run(page)
    page.get_by_text("Failed rows (6)", exact=True).click()  # the demo's six bad rows
    expect(page.get_by_test_id("stDataFrame").get_by_text("Missing artist name")).to_have_count(6)
    outcome = page.get_by_test_id("stAlertContentWarning").first.inner_text()
    labels = page.locator(".st-key-sync-metrics [data-testid='stMetricLabel']").all_inner_texts()
    values = page.locator(".st-key-sync-metrics [data-testid='stMetricValue']").all_inner_texts()
    metrics = dict(zip(labels, values, strict=True))
    synced, unchanged = metrics["Albums synced"], metrics["Unchanged"]
    assert f"{synced} albums synced (0 new, 0 changed, {unchanged} unchanged)" in outcome
    assert f"{metrics['Rows not used']} rows could not be used" in outcome
    screenshot(page, "layout-two-syncs")
    page.close()


def test_history_axis_labels_are_distinct(browser, demo):
    page = open_page(browser, f"{demo.url}/history", {"width": 1280, "height": 1400})
    chart = page.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible()
    # The x axis (the sync number) alone: the y axis's counts may share a label with it.
    x_axis = chart.locator("g.role-axis[aria-label^='X-axis']")
    expect(x_axis).to_have_count(1)
    labels = x_axis.locator("g.role-axis-label text").evaluate_all(
        "texts => texts.map(t => t.textContent)"
    )
    assert labels and len(labels) == len(set(labels)), labels
    # (the table's thousands separators are drawn on a canvas: test_dashboard_pages checks them)
    screenshot(page, "layout-history")
    page.close()


def test_catalog_on_a_phone_shows_artist_and_album_within_the_screen(browser, demo):
    page = open_page(browser, f"{demo.url}/catalog", PHONE)
    table = page.get_by_test_id("stDataFrame").first
    expect(table.locator("[role='gridcell']").first).to_be_attached()
    # the grid puts only the columns in sight in its accessible table
    headers = table.locator("[role='columnheader']").evaluate_all(
        "cells => cells.map(c => c.textContent)"
    )
    assert headers[:2] == ["Artist", "Album"], headers
    box = table.bounding_box()
    assert box and box["y"] < 2 * PHONE["height"], box  # the filters do not fill the screens
    screenshot(page, "layout-phone-catalog")
    page.close()


def test_an_idle_page_learns_of_a_sync_started_elsewhere(browser, demo):
    page = open_page(browser, demo.url, {"width": 1280, "height": 900})
    expect(sync_button(page)).to_be_enabled()
    op_id = claim(demo.engine, BIG, who="the command line")
    try:
        expect(sync_button(page)).to_be_disabled(timeout=(WATCH_SECONDS + 15) * 1000)
        expect(sync_button(page)).to_contain_text("Syncing...")
        expect(page.get_by_text("started by the command line")).to_be_visible()
    finally:
        end(demo.engine, op_id)
    page.close()
