"""The rows a sync could not take: a table to read and a CSV to fix them from.

The CSV neutralises formula-looking cells like every download (see csvexport).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from synccore.status import RowErrorRecord

from .csvexport import neutralise_cell

# The table shows the first rows only, so the page's message stays a few MB at most (each row
# error is at most ~2,500 characters); the CSV has every stored row, which the engine bounds
# (sync.MAX_STORED_ROW_ERRORS, rows.ERROR_VALUES_TOTAL) and which is fetched as a file, not
# sent in the page's message.
TABLE_ROW_LIMIT = 1_000


def row_errors_frame(errors: Sequence[RowErrorRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Sheet row": [e.sheet_row for e in errors],
            "Reason": [e.reason for e in errors],
            "Raw values": [" | ".join(e.values) for e in errors],
        }
    )


def row_errors_csv(errors: Sequence[RowErrorRecord]) -> bytes:
    """Sheet row, reason, then the row's cells one per column; UTF-8 with a BOM for Excel."""
    width = max((len(e.values) for e in errors), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Sheet row", "Reason", *(f"Value {i}" for i in range(1, width + 1))])
    for e in errors:
        writer.writerow([e.sheet_row, *(neutralise_cell(v) for v in (e.reason, *e.values))])
    return out.getvalue().encode("utf-8-sig")


def render_row_errors(
    errors: Sequence[RowErrorRecord], *, operation_id: int, key: str, failed: int | None = None
) -> None:
    """The failed rows table and its CSV download; `failed` is how many rows the sync
    counted, which can exceed what it stored."""
    if not errors:
        st.caption("No failed rows were recorded for this sync.")
        return
    shown = errors[:TABLE_ROW_LIMIT]
    st.dataframe(
        row_errors_frame(shown),
        hide_index=True,
        width="stretch",
        column_config={
            "Sheet row": st.column_config.NumberColumn(format="%d", width="small"),
            "Reason": st.column_config.TextColumn(width="large"),
            "Raw values": st.column_config.TextColumn(width="large"),
        },
        key=f"{key}-table",
    )
    if len(errors) > len(shown):
        st.caption(
            f"Showing the first {len(shown):,} of {len(errors):,} failed rows; "
            "the CSV has them all."
        )
    if failed is not None and failed > len(errors):
        st.caption(f"{failed:,} rows failed; the first {len(errors):,} were recorded.")
    st.download_button(
        "Download failed rows (CSV)",
        data=row_errors_csv(errors),
        file_name=f"sync-{operation_id}-failed-rows.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"{key}-csv",
        on_click="ignore",
    )
