"""The bench's sheets: tracker-shaped, and served by its pre-rendered fast path exactly as the
generic stand-in would serve them (a bench that flatters the sync by serving less is wrong)."""

from __future__ import annotations

from bench.common import API_KEY, sync_settings
from bench.sheet_server import RenderedSheetsServer, check_rendering
from bench.sheets import SheetSpec, render_sheet
from synccore import CatalogSync, SyncStatus


def test_the_fast_path_answers_what_the_generic_stand_in_answers():
    sheet, worksheets = render_sheet(SheetSpec(3_000))
    assert len(sheet.tabs) == 14  # 13 album tabs and Statistics
    check_rendering(sheet, worksheets)


def test_an_edited_sheet_differs_only_in_the_edited_albums_genres():
    plain, _ = render_sheet(SheetSpec(3_000))
    edited, _ = render_sheet(SheetSpec(3_000, edit_share=0.05))
    changed = [
        (tab.title, a, b)
        for tab, other in zip(plain.tabs, edited.tabs, strict=True)
        for a, b in zip(tab.values, other.values, strict=True)
        if a != b
    ]
    assert len(changed) == edited.edited > 50
    assert all(b.replace(b', Zeuhl"', b'"') == a for _, a, b in changed)


def test_a_sync_over_the_fast_path_reads_every_album(sqlite_url):
    sheet, _ = render_sheet(SheetSpec(2_000))
    with RenderedSheetsServer(api_keys={API_KEY}) as server:
        server.add_rendered("bench-sheet-test-0000000000", sheet)
        sync = CatalogSync(sync_settings(sqlite_url, server.url, "bench-sheet-test-0000000000"))
        result = sync.run_sync("bench test")
        sync.close()
    assert result.status is SyncStatus.COMPLETED_WITH_WARNINGS, result.message
    assert (result.total, result.failed) == (sheet.albums, 13)  # each tab's one bad row
    assert len(result.worksheets) == 13
