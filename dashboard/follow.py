"""Pages follow syncs. While one runs, pages other than Sync say so and rerun every few
seconds, so they show the new data when it ends without a reload. An idle page renders no
timer that reruns it: it asks every half minute, with one indexed read, whether a sync
started (or ended) elsewhere (the command line, a worker, another person), and reruns only
when one did, so its Sync Now button and status follow within that interval."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from streamlit_autorefresh import st_autorefresh

from synccore import CatalogSync, OperationStatus

from .text import plain

FOLLOW_MS = 3_000
WATCH_SECONDS = 30


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


def watch_for_new_sync(sync: CatalogSync, status: OperationStatus | None) -> None:
    """On an idle page, rerun it when the newest sync is no longer the one it shows."""
    if status is not None and status.is_active:
        return  # an active page reruns anyway
    shown = (status.id, False) if status else None

    @st.fragment(run_every=WATCH_SECONDS)
    def check() -> None:
        try:
            newest = sync.newest_operation()
        except SQLAlchemyError:
            return  # the next full run shows the database problem
        if newest != shown:
            st.rerun(scope="app")

    check()
