"""The Catalog page's filter choices (`CatalogSync.facets`), on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings

from synccore import CatalogSync, load_settings

from .support.albums import album, write_sheet_csv


def test_facets_list_each_choice_once_sorted_without_warnings(database_url, tmp_path):
    rows = [album(n) for n in range(9)]
    rows.append(album(9, date="2024-05-01", country="Sweden"))
    sheet = write_sheet_csv(tmp_path / "sheet.csv", rows)
    sync = CatalogSync(
        load_settings(
            {"SYNCCORE_DATABASE_URL": database_url, "SYNCCORE_SHEET": str(sheet)}, environ={}
        )
    )
    try:
        sync.run_sync("tester")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            facets = sync.facets()
    finally:
        sync.close()
    assert facets.countries == ["Finland", "Japan", "Sweden"]
    assert facets.years == [2025, 2024]
    assert facets.genres == ["Death Metal", "Doom", "Post-Rock"]
    assert facets.vocal_styles == ["Clean", "Harsh", "Mixed"]
    assert facets.albums == 10
