"""The History page's tables and chart, built from `SyncSummary` values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

import altair as alt
import pandas as pd

from synccore import COUNTER_LABELS as LABELS
from synccore import RESULT_COUNTERS, SyncStatus, SyncSummary

STATUS_LABELS = {
    SyncStatus.COMPLETED: "Completed",
    SyncStatus.COMPLETED_WITH_WARNINGS: "Completed with warnings",
    SyncStatus.FAILED: "Failed",
    SyncStatus.CANCELLED: "Cancelled",
    SyncStatus.INTERRUPTED: "Interrupted",
    SyncStatus.PENDING: "Pending",
    SyncStatus.RUNNING: "Running",
    SyncStatus.PREVIEWED: "Previewed",
}


def status_label(status: SyncStatus) -> str:
    return STATUS_LABELS.get(status, status.value)


def run_kind(summary: SyncSummary) -> str:
    """ "Preview", "Sync", or "Sync with force" (whose confirmation `triggered_by` gave)."""
    if summary.preview:
        return "Preview"
    return "Sync with force" if summary.force else "Sync"


def history_frame(syncs: Sequence[SyncSummary], zone: tzinfo) -> pd.DataFrame:
    """One row per finished sync, newest first, times in the viewer's zone."""
    return pd.DataFrame(
        {
            "Sync": [s.operation_id for s in syncs],
            "Started": [s.started_at.astimezone(zone).replace(tzinfo=None) for s in syncs],
            "Status": [status_label(s.status) for s in syncs],
            "Duration (s)": [round(s.duration_seconds, 1) for s in syncs],
            **{LABELS[name]: [getattr(s, name) for s in syncs] for name in RESULT_COUNTERS},
            "Albums/s": [round(s.albums_per_second, 1) for s in syncs],
            "Kind": [run_kind(s) for s in syncs],
            "Triggered by": [s.triggered_by for s in syncs],
            "Started via": [s.started_via for s in syncs],
            "Result": [s.message for s in syncs],
        }
    )


# The count columns, shown with thousands separators like every other page ("3,002").
COUNT_COLUMNS = tuple(LABELS[name] for name in RESULT_COUNTERS)


def speed_frame(syncs: Sequence[SyncSummary], zone: tzinfo) -> pd.DataFrame:
    """Duration and albums per second of the syncs that read the sheet, oldest first."""
    rows = [s for s in syncs if s.total > 0]
    return pd.DataFrame(
        {
            "Started": [s.started_at.astimezone(zone).replace(tzinfo=None) for s in rows],
            "Sync": [s.operation_id for s in rows],
            "Status": [status_label(s.status) for s in rows],
            "Duration (s)": [round(s.duration_seconds, 2) for s in rows],
            "Albums per second": [round(s.albums_per_second, 1) for s in rows],
        }
    ).iloc[::-1]


def speed_chart(frame: pd.DataFrame, measure: str) -> alt.Chart:
    """One measure per sync, in order, colour by status, the start time on hover. The x axis
    is the sync's number: whole numbers only, so no two ticks share a label (times formatted
    to the minute repeat when syncs run minutes apart)."""
    base = alt.Chart(frame).encode(
        x=alt.X(
            "Sync:Q",
            title="Sync",
            scale=alt.Scale(zero=False, nice=False),
            axis=alt.Axis(format="d", tickMinStep=1, labelAngle=0, labelOverlap=True),
        ),
        y=alt.Y(f"{measure}:Q", title=measure, scale=alt.Scale(zero=True)),
    )
    line = base.mark_line(color="#9aa0a6")
    points = base.mark_circle(size=70).encode(
        color=alt.Color("Status:N", legend=alt.Legend(orient="bottom", title=None)),
        tooltip=[
            alt.Tooltip("Sync:Q", format="d"),
            alt.Tooltip("Started:T", format="%Y-%m-%d %H:%M:%S"),
            "Status:N",
            alt.Tooltip("Duration (s):Q", format=",.2f"),
            alt.Tooltip("Albums per second:Q", format=",.1f"),
        ],
    )
    return (line + points).properties(height=260, title=measure)
