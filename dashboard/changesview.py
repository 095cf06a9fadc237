"""What a sync changed (a preview: would change), album by album, for the Sync, History and
Catalog pages. Sheet text is shown as data: tables hold it as cell text, Markdown gets it
through `plain`, the CSV through `csvexport`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

import pandas as pd
import streamlit as st

from synccore import CatalogSync
from synccore.changes import HELD, INITIAL_LOAD, KINDS, ChangeRecord

from .csvexport import render_csv_download_later
from .text import plain
from .timefmt import format_time

FIRST_SHOWN = 100  # the Sync page's outcome lists this many, then links to History
HISTORY_SHOWN = 5_000  # bound what one History rerun sends (the CSV has them all)

KIND_LABELS = {
    "created": "Created",
    "updated": "Updated",
    "removed": "Removed",
    "restored": "Restored",
    INITIAL_LOAD: "Initial load",
    HELD: "Not removed (guard)",
}
CHANGES = [k for k in KINDS if k != HELD]
TRIGGER_WORDS = {"schedule": "the scheduled sync", "cli": "a command-line sync"}


def changes_frame(records: Sequence[ChangeRecord]) -> pd.DataFrame:
    """One row per change: kind, artist, album, and what changed ("field: old -> new")."""
    return pd.DataFrame(
        {
            "Change": [KIND_LABELS.get(c.change, c.change) for c in records],
            "Artist": [c.artist or "" for c in records],
            "Album": [c.title or "" for c in records],
            "What changed": [c.summary for c in records],
        }
    )


def render_table(frame: pd.DataFrame, key: str) -> None:
    st.dataframe(
        frame,
        hide_index=True,
        column_config={"What changed": st.column_config.TextColumn(width="large")},
        key=key,
        placeholder="",
    )


def history_link(operation_id: int) -> str:
    """The History page showing this sync's changes (the page reads `?sync=`)."""
    return f"history?sync={operation_id}"


def render_sync_changes(sync: CatalogSync, operation_id: int, *, preview: bool = False) -> None:
    """The Sync page's "What changed" (or, after a preview, "What would change"): the first
    FIRST_SHOWN, then a link to the rest on the History page; folded, like the outcome's other
    tables, so the outcome never arrives with an empty table box. (A sync the guard stopped
    changed nothing: its list is `guardview`'s.)"""
    total = sync.count_changes(operation_id, CHANGES)
    if not total:
        return
    records = sync.changes(operation_id, kinds=CHANGES, limit=FIRST_SHOWN)
    if len(records) == 1 and records[0].change == INITIAL_LOAD:
        st.caption(plain(f"Initial load: {records[0].count or 0:,} albums added to the catalog."))
        return
    title = "What would change" if preview else "What changed"
    with st.expander(f"{title} ({total:,})", icon=":material/difference:"):
        render_table(changes_frame(records), key=f"changes-{operation_id}")
        if total > len(records):
            st.markdown(
                f"Showing the first {len(records):,} of {total:,}. "
                f"[See all {total:,} on the History page]({history_link(operation_id)})"
            )


def render_history_changes(sync: CatalogSync, operation_id: int, *, preview: bool) -> None:
    """A sync's changes on the History page, filterable by kind and searchable."""
    total = sync.count_changes(operation_id)
    heading = "What this preview would change" if preview else "What this sync changed"
    st.markdown(f"**{heading}**")
    if not total:
        st.caption("Nothing." if preview else "Nothing: every album was already up to date.")
        return
    left, right = st.columns([2, 3])
    kinds = left.multiselect(
        "Kind of change",
        [k for k in KINDS if k != INITIAL_LOAD],
        format_func=lambda k: KIND_LABELS[k],
        key=f"changes-kinds-{operation_id}",
        placeholder="All kinds",
    )
    search = right.text_input(
        "Search artist or album", key=f"changes-search-{operation_id}", max_chars=200
    )
    matching = sync.count_changes(operation_id, kinds, search)
    records = sync.changes(operation_id, kinds=kinds, search=search, limit=HISTORY_SHOWN)
    frame = changes_frame(records)
    render_table(frame, key=f"history-changes-{operation_id}")
    shown = f"{len(records):,} of {matching:,}" if matching > len(records) else f"{matching:,}"
    st.caption(f"{shown} change{'s' if matching != 1 else ''} shown ({total:,} in this sync).")
    render_csv_download_later(  # every matching change, read only when clicked
        lambda: changes_frame(sync.changes(operation_id, kinds=kinds, search=search)),
        "Download changes (CSV)",
        f"sync-{operation_id}-changes.csv",
        key=f"changes-csv-{operation_id}",
    )


def album_history_lines(records: Sequence[ChangeRecord], zone: tzinfo) -> list[str]:
    """ "genres changed on 3 March 2026 10:00 by the scheduled sync (#12)", newest first."""
    lines = []
    for c in records:
        when = format_time(c.at, zone) if c.at else "an unknown time"
        who = TRIGGER_WORDS.get(c.trigger or "", c.triggered_by)
        if c.change == "updated":
            what = ", ".join(c.fields) + " changed" if c.fields else "updated"
        else:
            what = KIND_LABELS.get(c.change, c.change)
            what = what[0].lower() + what[1:]
        detail = f" ({c.summary})" if c.fields else ""
        lines.append(f"{what} on {when} by {who} (sync #{c.operation_id}){detail}")
    return lines


def render_album_history(sync: CatalogSync, album_id: int, zone: tzinfo) -> None:
    records = sync.album_history(album_id)
    if not records:
        st.caption("No recorded changes (the first sync's initial load is one entry).")
        return
    st.markdown("**History**")
    st.markdown("\n".join(f"- {plain(line)}" for line in album_history_lines(records, zone)))
