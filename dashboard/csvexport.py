"""CSV downloads that a spreadsheet opens safely: every table's download is made here.

Cells that a spreadsheet would run as a formula (leading = + - @, tab or carriage return, and
their full-width forms) get a leading single quote, so `=HYPERLINK(...)` from the sheet
arrives as text. Streamlit's own table export ("Download as CSV" in each st.dataframe's
toolbar, and copying cells) writes text raw, so `.streamlit/config.toml` turns it off
(`client.disableDataExport`) and the pages offer these downloads instead; the tables on the
page keep showing the text exactly as stored.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise_cell(value: object) -> object:
    """Prefix a single quote to text a spreadsheet would treat as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def frame_csv(frame: pd.DataFrame) -> bytes:
    """A table as CSV, formula-looking text neutralised; UTF-8 with a BOM for Excel."""
    safe = frame.map(neutralise_cell).rename(columns=neutralise_cell)
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def render_csv_download(frame: pd.DataFrame, label: str, file_name: str, key: str) -> None:
    st.download_button(
        label,
        data=frame_csv(frame),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        key=key,
        on_click="ignore",
    )


def render_csv_download_later(
    make_frame: Callable[[], pd.DataFrame], label: str, file_name: str, key: str
) -> None:
    """The same download for a table too large to build on every rerun: `make_frame` runs
    only when the button is clicked (Streamlit's deferred download data)."""
    st.download_button(
        label,
        data=lambda: frame_csv(make_frame()),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        key=key,
        on_click="ignore",
    )
