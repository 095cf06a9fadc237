"""The Sync page's status panel: live progress while a sync runs, its outcome once it ends.

Everything here renders from one `OperationStatus` read fresh on each rerun; the only other
query is the failed rows of a sync that ended with warnings, which never runs while polling.
"""

from __future__ import annotations

from datetime import tzinfo

import streamlit as st

from synccore import COUNTER_LABELS as LABELS
from synccore import CatalogSync, OperationStatus, SyncStage, SyncStatus

from .changesview import render_sync_changes
from .rowerrors import render_row_errors
from .tabreport import render_sync_notes
from .text import plain
from .timefmt import format_duration, format_time

STEPS = {
    SyncStage.FETCHING.value: (1, "Reading the sheet"),
    SyncStage.PROCESSING.value: (2, "Updating the catalog"),
    SyncStage.FINALIZING.value: (3, "Finishing up"),
}

# How each ending is shown: the alert kind and its icon.
OUTCOMES = {
    SyncStatus.COMPLETED: (st.success, ":material/check_circle:"),
    SyncStatus.COMPLETED_WITH_WARNINGS: (st.warning, ":material/warning:"),
    SyncStatus.FAILED: (st.error, ":material/error:"),
    SyncStatus.CANCELLED: (st.info, ":material/cancel:"),
    SyncStatus.INTERRUPTED: (st.warning, ":material/report:"),
    SyncStatus.PREVIEWED: (st.info, ":material/preview:"),
}

FAILURE_ADVICE = "Check the settings in .streamlit/secrets.toml, then press Sync Now again."


def stage_heading(status: OperationStatus) -> str:
    """ "Step 2 of 3: Updating the catalog", or "Starting..." before the first stage."""
    if status.stage in STEPS:
        number, label = STEPS[status.stage]
        return f"Step {number} of {len(STEPS)}: {label}"
    return "Starting..."


def is_wait_message(message: str) -> bool:
    """A retry wait or quota pause ("..., retrying in 4 s"), shown as a warning, not progress."""
    text = message.casefold()
    return "retrying in" in text or "next read in" in text


def count_metrics(status: OperationStatus) -> list[tuple[str, str]]:
    """The metric row, in the units the outcome message uses: albums synced (new, changed,
    unchanged) and rows not used. The total is in the progress text, not here, so each value
    stays short enough to show whole."""
    # While (or if it ended while) reading the sheet, the counts are rows read, not albums.
    label = "Rows read" if status.stage == SyncStage.FETCHING.value else LABELS["processed"]
    shown = ("created", "updated", "unchanged", "failed")
    return [(label, f"{status.processed:,}")] + [
        (LABELS[name], f"{getattr(status, name):,}") for name in shown
    ]


def render_metrics(status: OperationStatus) -> None:
    """One row that wraps: each metric as wide as its whole value, side by side as far as the
    screen allows (several to a row on a phone, never cut off)."""
    row = st.container(horizontal=True, gap="medium", key="sync-metrics")
    for label, value in count_metrics(status):
        row.metric(label, value, width="content")


def render_progress(status: OperationStatus, zone: tzinfo) -> None:
    """The live panel while a sync is pending or running."""
    with st.container(border=True, key="sync-progress"):
        st.markdown(f"**{plain(stage_heading(status))}**")
        message = status.message or "Working..."
        if is_wait_message(message):
            st.warning(plain(message), icon=":material/hourglass_top:")
            st.progress(
                status.fraction,
                text=f"{status.processed:,} of {status.total:,}" if status.total else None,
            )
        else:
            st.progress(status.fraction, text=plain(message))
        render_metrics(status)
        if status.cancel_requested:
            st.info(plain(f"Cancel requested. {status.cancel_wait}"), icon=":material/cancel:")
        st.caption(
            plain(
                f"{status.kind} #{status.id}, started by {status.triggered_by} at "
                f"{format_time(status.started_at, zone)}, from {status.source}."
            )
        )


def outcome_text(status: OperationStatus) -> tuple[str, str | None]:
    """(headline, detail) for an ended sync; a failure's detail says what went wrong and what
    to do. The headline drops the cause when the detail starts by repeating it."""
    if status.status is SyncStatus.PREVIEWED:  # its error is why the guard would stop the sync
        return status.message, status.error
    if status.status not in (SyncStatus.FAILED, SyncStatus.INTERRUPTED):
        return status.message, None
    detail = status.error or FAILURE_ADVICE
    prefix = "Sync failed: "
    if status.message.startswith(prefix):
        cause = status.message[len(prefix) :].rstrip(".")
        if cause and detail.startswith(cause):
            return "Sync failed.", detail
    return status.message, detail


def render_outcome(status: OperationStatus, sync: CatalogSync, zone: tzinfo) -> None:
    """How the most recent sync ended: the message, what to do, and its failed rows. The
    failed rows are read before anything is drawn, so the panel appears whole with the
    outcome rather than as an empty box a moment later."""
    with_rows = status.status is SyncStatus.COMPLETED_WITH_WARNINGS and status.failed
    errors = sync.row_errors(status.id) if with_rows else []
    alert, icon = OUTCOMES.get(status.status, (st.info, None))
    headline, detail = outcome_text(status)
    text = f"**{plain(headline)}**"
    if detail:
        text += f"\n\n{plain(detail)}"
    alert(text, icon=icon)
    if status.total or status.processed:
        render_metrics(status)
    took = ""
    if status.finished_at:
        took = f", took {format_duration((status.finished_at - status.started_at).total_seconds())}"
    removed = f", {status.removed:,} albums marked removed" if status.removed else ""
    forced = f" Run with force, confirmed by {status.triggered_by}." if status.force else ""
    st.caption(
        plain(
            f"{status.kind} #{status.id}, started by {status.triggered_by} at "
            f"{format_time(status.started_at, zone)}{took}{removed}.{forced}"
        )
    )
    # The tables come folded: the first table a page shows is an empty grey box while its
    # code loads, and the outcome must not arrive with one.
    render_sync_notes(
        status.warnings,
        status.worksheets,
        status.announced,
        key=f"sync-notes-{status.id}",
        folded=True,
    )
    render_sync_changes(sync, status.id, preview=status.status is SyncStatus.PREVIEWED)
    if with_rows:
        with st.expander(f"Failed rows ({status.failed:,})", icon=":material/rule:"):
            st.caption("These sheet rows were not synced. Fix them in the sheet and sync again.")
            render_row_errors(
                errors,
                operation_id=status.id,
                key=f"failed-rows-{status.id}",
                failed=status.failed,
            )
