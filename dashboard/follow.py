"""Pages other than Sync follow a running sync: they say so and rerun every few seconds, so they
show the new data when it ends without a reload. Idle pages render no timer and never poll."""

from __future__ import annotations

import streamlit as st
from streamlit_autorefresh import st_autorefresh

from synccore import OperationStatus

from .text import plain

FOLLOW_MS = 3_000


def follow_active_sync(status: OperationStatus | None, what: str) -> None:
    """`what` names what will update, e.g. "The catalog"."""
    if status is None or not status.is_active:
        return
    st.info(
        plain(
            f"A sync is running ({status.message or 'starting'}). {what} updates here when "
            "it finishes; follow it on the Sync page."
        ),
        icon=":material/sync:",
    )
    st_autorefresh(interval=FOLLOW_MS, key="follow-sync-refresh")
