"""The Catalog, Sync and History pages on a synced multi-tab tracker, through AppTest: the
filters (a genre found inside list cells, type, country, tab, debuts), the new columns, the
per-tab figures and warnings."""

from __future__ import annotations

import json

import pytest

from synccore import CatalogSync, load_settings
from synccore.demo import DEBUT_COLOR, ONLY_IN_LISTS, demo_tracker, tracker_worksheets

from .support.dashboard import make_app, page_text
from .support.sheets import SHEET_KEY, api_env, sheet_api


@pytest.fixture(scope="module")
def tabs():
    return demo_tracker(years=(2025, 2019), albums_per_tab=60, bad_rows=False)


@pytest.fixture(scope="module")
def server(tabs):
    with sheet_api() as api:
        api.add_spreadsheet(SHEET_KEY, tracker_worksheets(tabs), public=True)
        yield api


@pytest.fixture(scope="module")
def secrets(server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tracker-dashboard")
    values = api_env(server) | {
        "SYNCCORE_DATABASE_URL": f"sqlite:///{workdir / 'catalog.db'}",
        "SYNCCORE_WORKSHEET": "*",
    }
    sync = CatalogSync(load_settings(values, environ={}))
    sync.run_sync("tester")
    sync.close()
    return values


def open_page(secrets, page: str):
    at = make_app(secrets).run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_catalog_filters_by_a_genre_that_only_appears_inside_lists(secrets, tabs):
    listed = {k for t in tabs for k, f in t.albums.items() if ONLY_IN_LISTS in f["genres"]}
    assert listed and all(f["genres"] != ONLY_IN_LISTS for t in tabs for f in t.albums.values())
    at = open_page(secrets, "pages/catalog.py")
    genres = at.multiselect(key="catalog-genres")
    assert f"{ONLY_IN_LISTS} ({len(listed)})" in genres.options
    genres.select(ONLY_IN_LISTS).run()
    table = at.dataframe[0].value
    assert len(table) == min(50, len(listed))
    assert all(ONLY_IN_LISTS in g.split(", ") for g in table["Genres"])
    assert f"of {len(listed)} album" in page_text(at)
    assert {"Type", "Genres", "Location", "Debut", "Spotify", "Bandcamp"} <= set(table.columns)


def test_catalog_type_country_tab_and_debut_filters_combine(secrets, tabs):
    at = open_page(secrets, "pages/catalog.py")
    at.multiselect(key="catalog-types").select("LP").run()
    at.multiselect(key="catalog-tabs").select("2019 Prog-rock").run()
    at.toggle(key="catalog-debuts").set_value(True).run()
    expected = {
        k for k, f in tabs[3].albums.items() if f["length"] == "LP" and f["color"] == DEBUT_COLOR
    }
    assert tabs[3].title == "2019 Prog-rock"
    table = at.dataframe[0].value if at.dataframe else None
    if expected:
        assert set(zip(table["Artist"], table["Album"], strict=True)) == expected
        assert set(table["Type"]) == {"LP"} and all(table["Debut"])
    else:
        assert "No albums match these filters." in page_text(at)
    at.multiselect(key="catalog-countries").select("France").run()
    french = {k for k in expected if tabs[3].albums[k]["location"] == "France"}
    shown = f"of {len(french)} album" if french else "No albums match these filters."
    assert shown in page_text(at)


def test_sync_and_history_pages_show_tabs_and_warnings(secrets):
    at = open_page(secrets, "pages/history.py")
    text = page_text(at)
    assert "Skipped the worksheet 'Statistics'" in text
    assert "announced albums have no title yet" in text
    tables = [d for d in at.dataframe if "Tab" in d.value.columns]
    assert tables and list(tables[0].value["Tab"])[:2] == ["2025 Prog-metal", "2025 Prog-rock"]
    config = json.loads(tables[0].proto.columns)  # counts read "3,002", as elsewhere
    for name in ("Rows read", "Albums", "Row errors", "Announced"):
        assert config[name]["type_config"]["format"] == "localized", config[name]


def test_failed_rows_name_their_tab_when_they_come_from_several():
    from dashboard.rowerrors import row_errors_csv, row_errors_frame
    from synccore.status import RowErrorRecord

    errors = [
        RowErrorRecord(9, "Missing artist name", ("", "X"), "2025 Prog-metal"),
        RowErrorRecord(9, "Missing artist name", ("", "Y"), "=2024 Prog-rock"),
    ]
    assert list(row_errors_frame(errors)["Tab"]) == ["2025 Prog-metal", "=2024 Prog-rock"]
    lines = row_errors_csv(errors).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Tab,Sheet row,Reason")
    assert lines[2].startswith("'=2024 Prog-rock,9,")
    assert "Tab" not in row_errors_frame(errors[:1]).columns
