"""One browser flow on a synced multi-tab tracker: filter the Catalog by a genre that only
appears inside genre-list cells, open an album and see its links and Spotify's player."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from synccore import CatalogSync, load_settings  # noqa: E402
from synccore.demo import ONLY_IN_LISTS, demo_tracker, tracker_worksheets  # noqa: E402

from .support.browser import (  # noqa: E402
    StreamlitServer,
    launch_chromium,
    require_chromium,
    screenshot,
    wait_for_app_run,
)
from .support.sheets import SHEET_KEY, api_env, sheet_api  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_filter_by_a_genre_inside_lists_and_open_an_album(tmp_path):
    require_chromium()
    tabs = demo_tracker(years=(2025,), albums_per_tab=80, bad_rows=False)
    listed = {k for t in tabs for k, f in t.albums.items() if ONLY_IN_LISTS in f["genres"]}
    with sheet_api() as api:
        api.add_spreadsheet(SHEET_KEY, tracker_worksheets(tabs), public=True)
        env = api_env(api) | {
            "SYNCCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
            "SYNCCORE_WORKSHEET": "*Prog-*",
        }
        engine = CatalogSync(load_settings(environ=env))
        engine.run_sync("browser test")
        engine.close()
        server = StreamlitServer(tmp_path, env).start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1400, "height": 1400})
                page.goto(server.url + "/catalog")
                wait_for_app_run(page)
                genre = page.locator(".st-key-catalog-genres").locator("input")
                genre.click()
                genre.fill(ONLY_IN_LISTS)
                page.get_by_role("option", name=f"{ONLY_IN_LISTS} ({len(listed)})").click()
                page.keyboard.press("Escape")
                wait_for_app_run(page)
                noun = "album" if len(listed) == 1 else "albums"
                expect(page.get_by_text(f"of {len(listed)} {noun}")).to_be_visible()

                grid = page.get_by_test_id("stDataFrame")
                expect(grid.locator("[role='gridcell']").first).to_be_attached()  # drawn
                box = grid.bounding_box()
                page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row
                wait_for_app_run(page)
                details = page.locator(".st-key-album-details")
                # a loaded machine may take longer than Playwright's 5 s to rerun and draw
                expect(details).to_contain_text(ONLY_IN_LISTS, timeout=20_000)
                expect(details.get_by_role("link", name="Spotify")).to_be_visible()
                player = details.locator("iframe[src*='open.spotify.com/embed/album/']")
                expect(player).to_have_count(1)
                screenshot(page, "tracker-catalog-genre-in-list")
                browser.close()
        finally:
            server.stop()
