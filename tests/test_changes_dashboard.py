"""The change log and the preview on the pages (AppTest, a real SQLite file, CSV sheets): the
Sync page's "What changed" with its link to the rest, the Preview button, History's per-sync
changes filtered by kind and searched, an album's own history in the Catalog. Sheet text is
shown as text."""

from __future__ import annotations

import pytest

from synccore import CatalogSync, SyncStatus, load_settings

from .conftest import album, write_sheet_csv
from .dashboard_support import button, make_app, page_text, wait_until_idle

HOSTILE = "<b>*Bold*</b> [x](javascript:alert(1))"


@pytest.fixture
def sheet(tmp_path):
    return write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(150)])


@pytest.fixture
def secrets(tmp_path, sheet):
    return {
        "SYNCCORE_DATABASE_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "SYNCCORE_SHEET": str(sheet),
    }


@pytest.fixture
def engine(secrets):
    sync = CatalogSync(load_settings(secrets, environ={}))
    yield sync
    sync.close()


def edit(sheet) -> None:
    """120 genres changed, one album renamed to hostile text (a removal and a creation)."""
    rows = [album(n, genre="Zeuhl") if n < 120 else album(n) for n in range(150)]
    rows[140] = album(140, album=HOSTILE)
    write_sheet_csv(sheet, rows)


def test_sync_page_lists_the_first_100_changes_and_links_to_the_rest(secrets, sheet, engine):
    engine.run_sync("tester")
    at = make_app(secrets).run()
    assert "Initial load: 150 albums added to the catalog." in page_text(at)
    edit(sheet)
    done = engine.run_sync("tester")
    at.run()
    assert "What changed" in page_text(at)
    table = at.dataframe[0].value
    assert len(table) == 100
    assert set(table["Change"]) == {"Updated"}
    assert table["What changed"][0].startswith('genres: ["Death Metal"] -> ["Zeuhl"]')
    link = next(m.value for m in at.markdown if "See all" in m.value)
    assert f"(history?sync={done.id})" in link and "of 122" in link


def test_preview_button_previews_without_changing_last_synced(secrets, sheet, engine):
    first = engine.run_sync("tester")
    edit(sheet)
    at = make_app(secrets).run()
    synced_at = engine.last_synced_at()
    button(at, "sync-preview").click().run()
    status = wait_until_idle(engine)
    assert status.preview and status.status is SyncStatus.PREVIEWED
    at.run()
    text = page_text(at)
    assert "would create 1, update 120 and remove 1 albums" in text
    assert "What would change" in text
    assert engine.last_synced_at() == synced_at
    assert engine.current_status().id != first.id
    assert all(a.genres != ("Zeuhl",) for a in engine.albums(limit=200).items)


def test_history_filters_a_syncs_changes_by_kind_and_search(secrets, sheet, engine):
    engine.run_sync("tester")
    edit(sheet)
    done = engine.run_sync("tester")
    at = make_app(secrets).run()
    at.switch_page("pages/history.py").run()
    assert not at.exception
    changes = next(d for d in at.dataframe if "What changed" in d.value.columns).value
    assert len(changes) == 122
    at.multiselect(key=f"changes-kinds-{done.id}").select("created").run()
    changes = next(d for d in at.dataframe if "What changed" in d.value.columns).value
    assert list(changes["Album"]) == [HOSTILE]  # the text as written, in a table cell
    at.multiselect(key=f"changes-kinds-{done.id}").unselect("created").run()
    at.text_input(key=f"changes-search-{done.id}").input("album 7").run()
    changes = next(d for d in at.dataframe if "What changed" in d.value.columns).value
    assert sorted(changes["Album"]) == ["Album 7", "Album 70", "Album 71", "Album 72",
                                        "Album 73", "Album 74", "Album 75", "Album 76",
                                        "Album 77", "Album 78", "Album 79"]  # fmt: skip
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Download changes (CSV)" in labels


def test_history_opens_the_sync_a_link_names(secrets, sheet, engine):
    first = engine.run_sync("tester")
    edit(sheet)
    engine.run_sync("tester")
    at = make_app(secrets).run()
    at.query_params["sync"] = str(first.id)
    at.switch_page("pages/history.py").run()
    assert at.selectbox(key="history-sync").value == first.id


def test_album_details_show_its_own_history(secrets, sheet, engine):
    engine.run_sync("tester")
    edit(sheet)
    engine.run_sync("scheduler-person")
    at = make_app(secrets).run()
    at.switch_page("pages/catalog.py").run()
    at.text_input(key="catalog-search").input("Album 3").run()
    table = at.dataframe[0].value
    row = list(table["Album"]).index("Album 3")
    at.session_state["catalog-table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    text = page_text(at)
    assert "genres changed on" in text and "by scheduler-person (sync #2)" in text
    assert 'genres: ["Death Metal"] -> ["Zeuhl"]' in text
