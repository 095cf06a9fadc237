"""When the removal guard stopped a sync: the albums it would have removed (searchable, as a
CSV) and, for a person who may sync, "Remove them and sync" behind a confirmation that names
the count. The forced sync removes no more than the count confirmed (see
`sync.check_removal_guard`), so a sheet that lost more rows meanwhile is stopped again."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from synccore import OperationStatus, SyncStatus
from synccore.changes import HELD, ChangeRecord

from .changesview import HISTORY_SHOWN
from .context import Dashboard
from .csvexport import render_csv_download_later

CONFIRMING = "confirm-removals"  # session key: the sync whose removals are being confirmed


def held_frame(records: Sequence[ChangeRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        {"Artist": [c.artist or "" for c in records], "Album": [c.title or "" for c in records]}
    )


def confirmation_text(count: int) -> str:
    noun = "album" if count == 1 else "albums"
    return (
        f"Remove {count:,} {noun} from the catalog and sync? They are marked removed (kept, "
        "and back as soon as the sheet lists them again), and the history records that you "
        "confirmed it."
    )


def render_held_removals(
    dash: Dashboard, status: OperationStatus, start_forced: Callable[[int], None]
) -> None:
    """The guard's list and the confirmed removal; `start_forced(count)` runs the sync."""
    if status.status is not SyncStatus.FAILED:
        return
    total = dash.sync.count_changes(status.id, [HELD])
    if not total:
        return
    st.subheader(f"Albums this sync would have removed ({total:,})", anchor=False)
    search = st.text_input("Search artist or album", key=f"held-search-{status.id}", max_chars=200)
    records = dash.sync.changes(status.id, kinds=[HELD], search=search, limit=HISTORY_SHOWN)
    frame = held_frame(records)
    st.dataframe(frame, hide_index=True, key=f"held-table-{status.id}", placeholder="")
    render_csv_download_later(  # the whole list, read only when clicked
        lambda: held_frame(dash.sync.changes(status.id, kinds=[HELD])),
        "Download the list (CSV)",
        f"sync-{status.id}-would-remove.csv",
        key=f"held-csv-{status.id}",
    )
    if not dash.viewer.can_sync:
        st.caption(dash.viewer.read_only_reason or "You may not sync.")
        return
    if st.session_state.get(CONFIRMING) != status.id:
        st.button(
            "Remove them and sync",
            key="remove-and-sync",
            icon=":material/delete_sweep:",
            on_click=lambda: st.session_state.update({CONFIRMING: status.id}),
            help="Asks you to confirm first.",
        )
        return
    with st.container(border=True, key="confirm-removals-box"):
        st.warning(confirmation_text(total), icon=":material/warning:")
        row = st.container(horizontal=True, gap="medium")
        row.button(
            f"Yes, remove {total:,} album{'s' if total != 1 else ''} and sync",
            key="confirm-removal",
            type="primary",
            on_click=_confirmed,
            args=(start_forced, total),
        )
        row.button("Keep them", key="keep-albums", on_click=_dismissed)


def _confirmed(start_forced: Callable[[int], None], count: int) -> None:
    st.session_state.pop(CONFIRMING, None)
    start_forced(count)


def _dismissed() -> None:
    st.session_state.pop(CONFIRMING, None)
