"""The change log and the preview on the pages (AppTest, a real SQLite file, CSV sheets): the
Sync page's "What changed" with its link to the rest, the Preview button, History's per-sync
changes filtered by kind and searched, an album's own history in the Catalog. Sheet text is
shown as text."""

from __future__ import annotations

import pytest

from dashboard.context import local_user_name
from synccore import CatalogSync, SyncStatus, load_settings

from .support.albums import album, write_sheet_csv
from .support.dashboard import button, make_app, page_text
from .support.waiting import wait_until_idle

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
    assert [e.label for e in at.expander if e.label.startswith("What")] == ["What changed (122)"]
    table = next(d for d in at.dataframe if "What changed" in d.value.columns).value
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
    assert "What would change (122)" in [e.label for e in at.expander]
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


def test_guard_lists_the_albums_and_removes_them_after_a_confirmation(secrets, sheet, engine):
    engine.run_sync("tester")
    write_sheet_csv(sheet, [album(n) for n in range(40)])  # 110 of 150 gone: the guard stops
    stopped = engine.run_sync("tester")
    assert stopped.status is SyncStatus.FAILED
    at = make_app(secrets).run()
    assert "Albums this sync would have removed (110)" in page_text(at)
    assert not [e for e in at.expander if e.label.startswith("What")]  # it changed nothing
    listed = next(d for d in at.dataframe if list(d.value.columns) == ["Artist", "Album"]).value
    assert len(listed) == 110 and "Album 149" in list(listed["Album"])
    at.text_input(key=f"held-search-{stopped.id}").input("album 14").run()
    listed = next(d for d in at.dataframe if list(d.value.columns) == ["Artist", "Album"]).value
    assert sorted(listed["Album"]) == ["Album 140", "Album 141", "Album 142", "Album 143",
                                       "Album 144", "Album 145", "Album 146", "Album 147",
                                       "Album 148", "Album 149"]  # fmt: skip
    assert "Download the list (CSV)" in [d.proto.label for d in at.get("download_button")]
    assert engine.albums(limit=200).total == 150  # nothing removed yet

    button(at, "remove-and-sync").click().run()
    assert button(at, "confirm-removal").label == "Yes, remove 110 albums and sync"
    assert "Remove 110 albums from the catalog and sync?" in page_text(at)
    button(at, "confirm-removal").click().run()
    forced = wait_until_idle(engine)
    assert forced.status is SyncStatus.COMPLETED and forced.removed == 110
    assert forced.force
    at.run()
    assert f"Run with force, confirmed by {local_user_name()}." in page_text(at)
    (summary,) = [h for h in engine.history() if h.operation_id == forced.id]
    assert summary.force and summary.triggered_by == local_user_name()
    at.switch_page("pages/history.py").run()
    assert "Sync with force" in list(at.dataframe[0].value["Kind"])
    assert f"confirmed by {local_user_name()}" in page_text(at)


def test_a_forced_sync_removes_no_more_than_confirmed(secrets, sheet, engine):
    engine.run_sync("tester")
    write_sheet_csv(sheet, [album(n) for n in range(40)])
    engine.run_sync("tester")
    write_sheet_csv(sheet, [album(n) for n in range(30)])  # ten more gone since the list
    op_id = engine.start_sync("alice", force=True, confirmed_removals=110)
    again = wait_until_idle(engine)
    assert again.id == op_id and again.status is SyncStatus.FAILED
    assert "more than the 110 confirmed" in again.message
    assert engine.albums(limit=200).total == 150
    assert engine.count_changes(op_id, ["held"]) == 120  # the new list to confirm
