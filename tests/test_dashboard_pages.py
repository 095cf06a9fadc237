"""The Catalog and History pages through AppTest, on a real SQLite file and CSV sheets."""

from __future__ import annotations

import json

import pytest

from synccore import CatalogSync, load_settings, operations

from .support.albums import album, write_sheet_csv
from .support.dashboard import autorefresh_rendered, make_app, page_text


@pytest.fixture
def sheet(tmp_path):
    """60 albums: more than one page of the catalog."""
    return write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(60)])


def open_page(secrets, page: str):
    at = make_app(secrets).run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_empty_catalog_points_to_sync_now(secrets):
    at = open_page(secrets, "pages/catalog.py")
    assert "The catalog is empty" in page_text(at)
    assert not at.dataframe


def test_catalog_after_a_failed_first_sync_says_why_it_is_empty(secrets, tmp_path):
    failing = {**secrets, "SYNCCORE_SHEET": str(tmp_path / "missing.csv")}
    sync = CatalogSync(load_settings(failing, environ={}))
    sync.run_sync("tester")
    sync.close()
    at = open_page(failing, "pages/catalog.py")
    assert "no sync has added albums yet" in page_text(at)


def test_catalog_lists_newest_first_one_page_at_a_time(secrets, sheet, other):
    rows = [album(n) for n in range(60)]
    rows.append(album(99, date="2026-01-15", album="Newest Record"))
    write_sheet_csv(sheet, rows)
    other.run_sync("tester")
    at = open_page(secrets, "pages/catalog.py")
    table = at.dataframe[0].value
    assert len(table) == 50
    assert table["Album"][0] == "Newest Record"
    assert list(table["Release"]) == sorted(table["Release"], reverse=True)
    assert "Showing 1-50 of 61 albums, newest first." in page_text(at)
    at.pagination[0].select(2).run()
    assert len(at.dataframe[0].value) == 11
    assert "Showing 51-61 of 61 albums" in page_text(at)


def test_search_and_filters_narrow_the_catalog(secrets, other):
    other.run_sync("tester")
    at = open_page(secrets, "pages/catalog.py")
    at.text_input(key="catalog-search").input("artist 1").run()
    artists = set(at.dataframe[0].value["Artist"])
    assert artists and all(a.startswith("Artist 1") for a in artists)
    assert "Showing 1-11 of 11 albums" in page_text(at)  # Artist 1, 10-19
    at.text_input(key="catalog-search").input("").run()
    at.multiselect(key="catalog-genres").select("Doom").run()
    at.multiselect(key="catalog-countries").select("Finland").run()
    table = at.dataframe[0].value
    assert set(table["Genres"]) == {"Doom"} and set(table["Location"]) == {"Finland"}
    at.multiselect(key="catalog-vocals").select("Harsh").run()  # Doom rows are all Clean
    assert "No albums match these filters." in page_text(at)


def test_new_filter_starts_at_the_first_page(secrets, other):
    other.run_sync("tester")
    at = open_page(secrets, "pages/catalog.py")
    at.pagination[0].select(2).run()
    at.multiselect(key="catalog-years").select(2025).run()
    assert "Showing 1-50 of 60 albums" in page_text(at)


def test_catalog_shows_new_data_after_a_sync_without_reload(secrets, sheet, other):
    other.run_sync("tester")
    at = open_page(secrets, "pages/catalog.py")
    assert "Showing 1-50 of 60 albums" in page_text(at)
    write_sheet_csv(
        sheet,
        [album(n) for n in range(60)] + [album(70, date="2026-02-01", album="Fresh From Sync")],
    )
    other.run_sync("tester")
    at.run()  # what the page's rerun (or a click) does; no cache clearing
    assert at.dataframe[0].value["Album"][0] == "Fresh From Sync"
    assert "of 61 albums" in page_text(at)


def test_catalog_follows_a_running_sync_and_idle_catalog_does_not_poll(secrets, other):
    other.run_sync("tester")
    at = open_page(secrets, "pages/catalog.py")
    assert not autorefresh_rendered(at)
    op_id = operations.claim(other.db, other.settings, "someone")
    at.run()
    assert autorefresh_rendered(at)
    assert "A sync is running" in page_text(at)
    operations.finish(other.db, op_id, operations.SyncStatus.CANCELLED, "Sync cancelled.")
    at.run()
    assert not autorefresh_rendered(at)


def test_selected_album_shows_details_and_spotify_link(secrets, sheet, other):
    spotify = "https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy"
    write_sheet_csv(sheet, [album(1, album="<img src=x onerror=alert(1)>", spotify=spotify)])
    other.run_sync("tester")
    at = open_page(secrets, "pages/catalog.py")
    table = at.dataframe[0].value
    assert table["Album"][0] == "<img src=x onerror=alert(1)>"
    assert table["Spotify"][0] == spotify
    # Select the row the way the browser does: the dataframe's selection state.
    at.session_state["catalog-table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    details = [m.value for m in at.markdown]
    assert any("\\<img src\\=x onerror\\=alert\\(1\\)\\>" in d for d in details)  # escaped text
    assert at.get("link_button")[0].proto.url == spotify


def test_history_lists_syncs_with_chart_and_row_errors(secrets, sheet, other):
    other.run_sync("alice@example.com")
    rows = [album(n) for n in range(60)]
    rows.insert(5, album(200, artist=""))  # sheet row 7
    write_sheet_csv(sheet, rows)
    other.run_sync("bob@example.com")
    at = open_page(secrets, "pages/history.py")
    table = at.dataframe[0].value
    assert list(table["Sync"]) == [2, 1]
    assert list(table["Status"]) == ["Completed with warnings", "Completed"]
    assert list(table["Triggered by"]) == ["bob@example.com", "alice@example.com"]
    assert list(table["Albums"]) == [60, 60]
    assert list(table["New"]) == [0, 60]
    assert list(table["Rows not used"]) == [1, 0]
    config = json.loads(at.dataframe[0].proto.columns)  # counts read "3,002", as elsewhere
    for name in ("Albums", "New", "Changed", "Unchanged", "Removed", "Rows not used", "Albums/s"):
        assert config[name]["type_config"]["format"] == "localized", config[name]
    assert (table["Duration (s)"] >= 0).all() and (table["Albums/s"] >= 0).all()
    assert len(at.get("vega_lite_chart")) == 2
    errors = at.dataframe[1].value  # the newest sync is selected: its failed rows
    assert list(errors["Sheet row"]) == [7]
    at.selectbox(key="history-sync").select(1).run()
    assert "No failed rows in this sync." in page_text(at)


def test_pages_show_formulas_as_stored_and_offer_their_own_csv(secrets, sheet, other):
    formula = '=HYPERLINK("http://evil.example","Click")'
    write_sheet_csv(sheet, [album(1, album=formula), album(2, artist="+cmd|' /C calc'!A0")])
    other.run_sync("@someone")
    at = open_page(secrets, "pages/catalog.py")
    assert formula in list(at.dataframe[0].value["Album"])  # shown as stored, not prefixed
    assert [d.proto.label for d in at.get("download_button")] == ["Download this page (CSV)"]
    at.switch_page("pages/history.py").run()
    assert list(at.dataframe[0].value["Triggered by"]) == ["@someone"]
    assert "Download history (CSV)" in [d.proto.label for d in at.get("download_button")]


def test_history_before_any_sync(secrets):
    at = open_page(secrets, "pages/history.py")
    assert "No sync has finished yet" in page_text(at)
