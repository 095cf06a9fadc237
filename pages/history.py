"""History: past syncs with their status, duration, counts and who ran them; speed over time;
and each sync's details and failed rows."""

from __future__ import annotations

import streamlit as st

from dashboard.changesview import render_history_changes
from dashboard.context import open_dashboard, problems_shown
from dashboard.csvexport import render_csv_download
from dashboard.follow import follow_active_sync, watch_for_new_sync
from dashboard.historyview import (
    COUNT_COLUMNS,
    history_frame,
    speed_chart,
    speed_frame,
    status_label,
)
from dashboard.rowerrors import render_row_errors
from dashboard.tabreport import render_sync_notes
from dashboard.text import plain
from dashboard.timefmt import format_duration, format_time, viewer_zone
from synccore import SyncStatus, SyncSummary

HISTORY_LIMIT = 500


def sync_choice(summary: SyncSummary) -> str:
    failed = f", {summary.failed:,} failed rows" if summary.failed else ""
    return (
        f"Sync #{summary.operation_id}: {status_label(summary.status)}, "
        f"{format_time(summary.started_at, zone)}{failed}"
    )


def requested_sync(value: str | None, known: dict) -> int | None:
    """The sync a link asked for (`?sync=12`, from the Sync page), if it is listed."""
    try:
        wanted = int(value or "")
    except ValueError:
        return None
    return wanted if wanted in known else None


def sync_details(summary: SyncSummary) -> None:
    st.markdown(f"**{plain(summary.message)}**")
    if summary.error and summary.status is not SyncStatus.COMPLETED:
        st.markdown(plain(summary.error))
    st.caption(
        plain(
            f"Triggered by {summary.triggered_by} ({summary.started_via}) from "
            f"{summary.source}; started "
            f"{format_time(summary.started_at, zone)}, "
            f"took {format_duration(summary.duration_seconds)}."
            + (" A preview: nothing was changed." if summary.preview else "")
            + (
                f" Run with force (removals beyond the guard), confirmed by {summary.triggered_by}."
                if summary.force
                else ""
            )
        )
    )
    with problems_shown():
        render_history_changes(dash.sync, summary.operation_id, preview=summary.preview)
    render_sync_notes(
        summary.warnings,
        summary.worksheets,
        summary.announced,
        key=f"history-notes-{summary.operation_id}",
    )
    if summary.failed:
        with problems_shown():
            errors = dash.sync.row_errors(summary.operation_id)
        render_row_errors(
            errors,
            operation_id=summary.operation_id,
            key=f"history-errors-{summary.operation_id}",
            failed=summary.failed,
        )
    else:
        st.caption("No failed rows in this sync.")


dash = open_dashboard()
zone = viewer_zone()
st.title("History", anchor=False)
with problems_shown():
    status = dash.sync.current_status()
    syncs = dash.sync.history(limit=HISTORY_LIMIT)
follow_active_sync(status, "The history")
watch_for_new_sync(dash.sync, status)

if not syncs:
    st.info(
        "No sync has finished yet. Open the **Sync** page and press **Sync Now**.",
        icon=":material/inbox:",
    )
    st.stop()

st.caption(
    f"The last {len(syncs):,} syncs, newest first."
    if len(syncs) == HISTORY_LIMIT
    else f"{len(syncs):,} {'sync' if len(syncs) == 1 else 'syncs'}, newest first."
)
speeds = speed_frame(syncs, zone)
if len(speeds) >= 1:
    left, right = st.columns(2)
    left.altair_chart(speed_chart(speeds, "Duration (s)"), width="stretch")
    right.altair_chart(speed_chart(speeds, "Albums per second"), width="stretch")

history = history_frame(syncs, zone)
st.dataframe(
    history,
    hide_index=True,
    column_config={
        "Sync": st.column_config.NumberColumn(format="#%d", width="small"),
        "Started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        "Duration (s)": st.column_config.NumberColumn(format="%.1f"),
        "Albums/s": st.column_config.NumberColumn(format="localized"),
        **{name: st.column_config.NumberColumn(format="localized") for name in COUNT_COLUMNS},
        "Result": st.column_config.TextColumn(width="large"),
    },
    key="history-table",
    placeholder="",
)
render_csv_download(history, "Download history (CSV)", "sync-history.csv", key="history-csv")

st.subheader("Sync details and failed rows", anchor=False)
by_id = {s.operation_id: s for s in syncs}
asked = requested_sync(st.query_params.get("sync"), by_id)
if asked is not None and st.session_state.get("history-sync-asked") != asked:
    st.session_state["history-sync-asked"] = asked  # once, so the box can be changed after
    st.session_state["history-sync"] = asked
chosen = st.selectbox(
    "Sync", list(by_id), format_func=lambda op_id: sync_choice(by_id[op_id]), key="history-sync"
)
if chosen is not None:
    sync_details(by_id[chosen])
