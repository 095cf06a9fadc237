"""A sync's notes beside its counts: warnings (columns a tab lacks, tabs skipped), announced
albums without a title yet, and the per-tab figures. Shared by the Sync and History pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from .text import plain


def tabs_frame(worksheets: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per tab the sync selected, in sheet order."""
    return pd.DataFrame(
        {
            "Tab": [str(t.get("name", "")) for t in worksheets],
            "Rows read": [int(t.get("rows_read") or 0) for t in worksheets],
            "Albums": [int(t.get("albums") or 0) for t in worksheets],
            "Row errors": [int(t.get("row_errors") or 0) for t in worksheets],
            "Announced": [int(t.get("announced") or 0) for t in worksheets],
            "Skipped": [str(t.get("skipped") or "") for t in worksheets],
        }
    )


def render_sync_notes(
    warnings: Sequence[str],
    worksheets: Sequence[dict[str, Any]],
    announced: int,
    key: str,
    *,
    folded: bool = False,
) -> None:
    """Warnings as warnings, announced albums as information, and the tab table when the
    sync read more than one tab or skipped one; `folded` puts the table in a closed expander
    (where a page's first table would show as an empty box while its code loads)."""
    for warning in warnings:
        st.warning(plain(warning), icon=":material/warning:")
    if announced:
        st.info(
            f"{announced:,} announced album{'s have' if announced != 1 else ' has'} no title "
            "yet (an artist and a planned release, e.g. in the sheet's Unannounced Projects): "
            "skipped until they get one.",
            icon=":material/schedule:",
        )
    if len(worksheets) > 1 or any(t.get("skipped") for t in worksheets):
        where = (
            st.expander(f"Figures per tab ({len(worksheets):,} tabs)", icon=":material/tab:")
            if folded
            else st.container()
        )
        counts = ("Rows read", "Albums", "Row errors", "Announced")  # "3,002", as everywhere
        where.dataframe(
            tabs_frame(worksheets),
            hide_index=True,
            key=f"{key}-tabs",
            placeholder="",
            column_config={
                name: st.column_config.NumberColumn(format="localized") for name in counts
            },
        )
