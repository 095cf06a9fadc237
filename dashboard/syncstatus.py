"""The Sync page's status panel: live progress while a sync runs, its outcome once it ends.

Everything here renders from one `OperationStatus` read fresh on each rerun; the only other
query is the failed rows of a sync that ended with warnings, which never runs while polling.
"""

from __future__ import annotations

from datetime import tzinfo

import streamlit as st

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
    """The metric row: processed/total, then created, updated, unchanged and failed."""
    # While (or if it ended while) reading the sheet, the counts are rows read, not albums.
    label = "Rows read" if status.stage == SyncStage.FETCHING.value else "Processed"
    done = f"{status.processed:,} / {status.total:,}" if status.total else f"{status.processed:,}"
    return [
        (label, done),
        ("Created", f"{status.created:,}"),
        ("Updated", f"{status.updated:,}"),
        ("Unchanged", f"{status.unchanged:,}"),
        ("Failed", f"{status.failed:,}"),
    ]


def render_metrics(status: OperationStatus) -> None:
    for column, (label, value) in zip(st.columns(5), count_metrics(status), strict=True):
        column.metric(label, value)


def render_progress(status: OperationStatus, zone: tzinfo) -> None:
    """The live panel while a sync is pending or running."""
    with st.container(border=True, key="sync-progress"):
        st.markdown(f"**{plain(stage_heading(status))}**")
        message = status.message or "Working..."
        if is_wait_message(message):
            st.warning(plain(message), icon=":material/hourglass_top:")
            st.progress(status.fraction)
        else:
            st.progress(status.fraction, text=plain(message))
        render_metrics(status)
        if status.cancel_requested:
            st.info(
                "Cancel requested: the sync stops after the batch it is writing.",
                icon=":material/cancel:",
            )
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
    """How the most recent sync ended: the message, what to do, and its failed rows."""
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
    render_sync_notes(
        status.warnings, status.worksheets, status.announced, key=f"sync-notes-{status.id}"
    )
    render_sync_changes(sync, status.id, preview=status.status is SyncStatus.PREVIEWED)
    if status.status is SyncStatus.COMPLETED_WITH_WARNINGS and status.failed:
        st.subheader("Failed rows", anchor=False)
        st.caption("These sheet rows were not synced. Fix them in the sheet and sync again.")
        render_row_errors(
            sync.row_errors(status.id),
            operation_id=status.id,
            key=f"failed-rows-{status.id}",
            failed=status.failed,
        )
