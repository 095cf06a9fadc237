"""Row errors and history stay bounded: per row, per sync, per page, and over time
(`SYNCCORE_KEEP_SYNCS`)."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import func, select

from dashboard.rowerrors import TABLE_ROW_LIMIT
from synccore import CatalogSync, SyncStatus, load_settings, operations
from synccore.config import Settings
from synccore.errors import ConfigurationError
from synccore.models import SyncOperation, SyncResult, SyncRowError
from synccore.operations import Progress
from synccore.retention import prune_history
from synccore.rows import (
    ERROR_VALUE_LENGTH,
    ERROR_VALUES_TOTAL,
    TRUNCATED,
    RowError,
    error_values,
    row_error,
)
from synccore.sources.base import RawRow
from synccore.sync import MAX_STORED_ROW_ERRORS, RowErrorLog

from .support.albums import HEADER, album, write_sheet_csv
from .support.dashboard import make_app, page_text

# What one stored row error can hold at most: the cells (plus the marker) and the reason.
MAX_ROW_ERROR_CHARS = ERROR_VALUES_TOTAL + len(TRUNCATED) + 500


# -- per row ------------------------------------------------------------------------------------


def test_row_error_values_are_capped_in_total_with_a_visible_marker():
    values = error_values(["x" * 60] * 200)
    assert sum(map(len, values)) <= ERROR_VALUES_TOTAL + len(TRUNCATED)
    assert values[-1].endswith(TRUNCATED)
    assert values[0] == "x" * 60


def test_a_long_cell_is_cut_and_marked_and_the_next_ones_kept():
    values = error_values(["y" * 600, "short", ""])
    assert values == ("y" * ERROR_VALUE_LENGTH + TRUNCATED, "short", "")


def test_a_narrow_row_is_kept_whole_without_a_marker():
    cells = ("2025", "", "Album", "Doom")
    assert error_values(cells) == cells
    assert error_values(["z" * 400] * 5 + [""] * 100) == ("z" * 400,) * 5  # only blanks cut


def write_wide_bad_rows(path, count: int, width: int, cell: int) -> None:
    """`count` rows without an artist (so each is a row error), `width` cells wide."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(count):
            writer.writerow(["2025-01-01", "", f"Album {n}"] + [f"{n:08d}" * (cell // 8)] * width)


def test_5000_wide_failed_rows_store_at_most_the_cap_each(tmp_path, sqlite_url):
    sheet = tmp_path / "wide.csv"
    write_wide_bad_rows(sheet, 5_000, 200, 56)  # 11,200 characters of cells per row
    sync = CatalogSync(Settings(database_url=sqlite_url, sheet=str(sheet)))
    status = sync.run_sync("alice")
    assert (status.status, status.failed) == (SyncStatus.COMPLETED_WITH_WARNINGS, 5_000)
    with sync.db.session() as s:
        stored = s.execute(select(SyncRowError.raw_values, SyncRowError.reason)).all()
    sync.close()
    assert len(stored) == 5_000
    for values, reason in stored:
        assert sum(map(len, values)) <= ERROR_VALUES_TOTAL + len(TRUNCATED)
        assert values[-1].endswith(TRUNCATED)
        assert len(reason) <= 500
    assert sum(sum(map(len, v)) + len(r) for v, r in stored) <= 5_000 * MAX_ROW_ERROR_CHARS


# -- per sync -----------------------------------------------------------------------------------


def test_the_log_counts_every_error_and_keeps_the_first_in_sheet_order():
    log = RowErrorLog(limit=3)
    for row in (5, 9, 2, 7, 1):
        log.append(RowError(row, "bad", ()))
    assert len(log) == 5
    assert [e.row_number for e in log.kept()] == [1, 2, 5]


def test_failed_rows_beyond_the_cap_are_counted_not_stored(tmp_path, database_url):
    bad = MAX_STORED_ROW_ERRORS + 2_000
    # Row 2 is an album that a later row repeats: its duplicate error is found last, during
    # the write stage, and is still among the first rows in sheet order.
    rows = [album(0)] + [album(n, artist="") for n in range(1, bad + 1)] + [album(0)]
    sheet = write_sheet_csv(tmp_path / "sheet.csv", rows)
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet)))
    status = sync.run_sync("alice")
    assert status.status is SyncStatus.COMPLETED_WITH_WARNINGS
    assert status.failed == bad + 1
    assert f"{bad + 1:,} rows could not be used, 1 of them duplicate" in status.message
    with sync.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncRowError)) == MAX_STORED_ROW_ERRORS
    stored = sync.row_errors(status.id)
    sync.close()
    assert [e.sheet_row for e in stored] == list(range(2, MAX_STORED_ROW_ERRORS + 2))
    assert stored[0].reason.startswith("Duplicate of row")


# -- over time ----------------------------------------------------------------------------------


def history_counts(sync: CatalogSync) -> tuple[list[int], list[int], set[int]]:
    with sync.db.session() as s:
        ops = list(s.scalars(select(SyncOperation.id).order_by(SyncOperation.id)))
        results = list(s.scalars(select(SyncResult.operation_id).order_by(SyncResult.operation_id)))
        errors = set(s.scalars(select(SyncRowError.operation_id).distinct()))
    return ops, results, errors


def test_pruning_keeps_exactly_the_last_n_syncs(tmp_path, database_url):
    sheet = tmp_path / "sheet.csv"
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet), keep_syncs=3))
    for n in range(6):
        write_sheet_csv(sheet, [album(i) for i in range(5)] + [album(99, artist="")] * (n % 2))
        sync.run_sync("alice")
    ops, results, errors = history_counts(sync)
    assert ops == results == [4, 5, 6]
    assert errors <= {4, 5, 6} and errors  # row errors of the kept syncs only
    sync.close()


def test_pruning_keeps_the_last_successful_sync(tmp_path, database_url):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(i) for i in range(5)])
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet), keep_syncs=2))
    assert sync.run_sync("alice").status is SyncStatus.COMPLETED
    sheet.unlink()
    for _ in range(3):
        assert sync.run_sync("alice").status is SyncStatus.FAILED
    ops, results, _ = history_counts(sync)
    assert ops == results == [1, 3, 4]
    assert sync.last_synced_at() is not None
    sync.close()


def test_pruning_never_touches_the_active_operation(tmp_path, database_url):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(i) for i in range(5)])
    settings = Settings(database_url=database_url, sheet=str(sheet))
    sync = CatalogSync(settings)
    sync.run_sync("alice")
    sync.run_sync("alice")
    active = operations.claim(sync.db, settings, "bob")
    assert prune_history(sync.db, 1) == 1
    ops, results, _ = history_counts(sync)
    assert ops == [2, active] and results == [2]
    assert sync.current_status().is_active and sync.current_status().id == active
    sync.close()


def test_keep_syncs_setting():
    assert load_settings(environ={}).keep_syncs == 200
    assert load_settings(environ={"SYNCCORE_KEEP_SYNCS": "25"}).keep_syncs == 25
    with pytest.raises(ConfigurationError, match="SYNCCORE_KEEP_SYNCS must be at least 1"):
        load_settings(environ={"SYNCCORE_KEEP_SYNCS": "0"})


# -- per page -----------------------------------------------------------------------------------


def message_bytes(at) -> int:
    """The serialized size of every element the page sent (what the browser receives)."""
    total = 0

    def walk(node) -> None:
        nonlocal total
        proto = getattr(node, "proto", None)
        if proto is not None:
            total += len(proto.SerializeToString())
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return total


@pytest.fixture
def widest_failures(tmp_path):
    """A finished sync whose 2,500 stored row errors are as large as a row error gets:
    200 cells of 500 characters each, through the engine's own `row_error`."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(1)])
    secrets = {"SYNCCORE_DATABASE_URL": url, "SYNCCORE_SHEET": str(sheet)}
    sync = CatalogSync(load_settings(secrets, environ={}))
    failed = 2_500
    errors = [
        row_error(RawRow(n, tuple(f"{n}:" + "w" * 500 for _ in range(200))), "r" * 600)
        for n in range(2, failed + 2)
    ]
    op_id = operations.claim(sync.db, sync.settings, "alice")
    progress = Progress(None, "", processed=0, total=failed, failed=failed)  # type: ignore[arg-type]
    message = f"Sync completed with warnings: 0 albums synced; {failed:,} rows could not be used."
    operations.finish(
        sync.db,
        op_id,
        SyncStatus.COMPLETED_WITH_WARNINGS,
        message,
        progress=progress,
        row_errors=errors,
    )
    yield secrets, failed
    sync.close()


def assert_failed_rows_bounded(at, failed: int) -> None:
    assert not at.exception
    table = at.dataframe[-1].value
    assert list(table.columns) == ["Sheet row", "Reason", "Raw values"]
    assert len(table) == TABLE_ROW_LIMIT
    assert f"Showing the first {TABLE_ROW_LIMIT:,} of {failed:,} failed rows" in page_text(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download failed rows (CSV)" in labels
    # 1,000 rows of at most ~2,500 characters: a few MB, far below Streamlit's 50 MB limit.
    assert message_bytes(at) < TABLE_ROW_LIMIT * (MAX_ROW_ERROR_CHARS + 200) * 1.2


def test_sync_page_failed_rows_stay_bounded(widest_failures):
    secrets, failed = widest_failures
    at = make_app(secrets).run()
    assert_failed_rows_bounded(at, failed)


def test_history_page_failed_rows_stay_bounded(widest_failures):
    secrets, failed = widest_failures
    at = make_app(secrets).run()
    at.switch_page("pages/history.py").run()
    assert_failed_rows_bounded(at, failed)
