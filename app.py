"""Catalog Sync dashboard: the Sync page, and the navigation to the Catalog and History pages.

Run it with `scripts/dashboard` (`streamlit run app.py`). With no configuration it syncs the
bundled demo sheet into catalog.db.

The Sync page polls only while a sync is active: `st_autorefresh` is rendered then, and only
then; an idle page asks every 30 s, with one indexed read, whether a sync started elsewhere
(`watch_for_new_sync`). Each rerun reads the status fresh (one indexed row) and runs no
catalog query; the engine (`CatalogSync`) is created once per process.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from streamlit_autorefresh import st_autorefresh

from dashboard.context import (
    Dashboard,
    Viewer,
    database_problem,
    open_dashboard,
    problems_shown,
    render_account,
    viewer_now,
)
from dashboard.follow import watch_for_new_sync
from dashboard.lastsync import render_last_synced
from dashboard.opsnote import render_operations
from dashboard.syncstatus import render_outcome, render_progress
from dashboard.text import plain
from dashboard.timefmt import viewer_zone
from synccore import CatalogSync, OperationStatus, SyncAlreadyRunning, SyncError, SyncStage

REFRESH_MS = 2_000  # how often the page reruns while a sync is active
# px: "Sync Now" and "Syncing..." keep the same size; with Cancel, one row on a phone
BUTTON_WIDTH = 160
NOTICE = "sync-notice"  # session key: a message from the last button press, shown once

# The demo says so in one line under the title (on a phone a longer note would push a
# running sync's progress below the fold); how to leave the demo comes at the page's end.
DEMO_NOTE = (
    "**This is the demo:** 3,000 made-up albums served by a local stand-in for the Google "
    "Sheets API, safe to try."
)
DEMO_HOWTO = (
    "To sync your own sheet, set `SYNCCORE_SHEET` to its URL in `.streamlit/secrets.toml` "
    "(see `.streamlit/secrets.toml.example` for the credentials it needs) and restart the "
    "dashboard."
)


def clicking_viewer() -> Viewer | None:
    """Who pressed Sync Now or Cancel, if they may: decided now, from the settings and the
    sign-in as they are at the click, never from the run that drew the button (which may be
    stale, and a browser can send a click for a disabled button). Otherwise leave the reason
    as the notice."""
    try:
        viewer = viewer_now()
    except SyncError as exc:
        st.session_state[NOTICE] = f"Your permission to sync could not be checked: {exc}"
        return None
    if not viewer.can_sync:
        st.session_state[NOTICE] = viewer.read_only_reason
        return None
    return viewer


def start_sync(sync: CatalogSync) -> None:
    """Sync Now: runs as a callback, so the rerun it triggers already shows the new sync."""
    viewer = clicking_viewer()
    if viewer is None:
        return
    try:
        sync.start_sync(viewer.name, trigger="dashboard")
    except SyncAlreadyRunning as exc:
        st.session_state[NOTICE] = f"{exc} Its progress is shown below."
    except SyncError as exc:
        st.session_state[NOTICE] = f"The sync could not start: {exc}"
    except SQLAlchemyError as exc:
        st.session_state[NOTICE] = database_problem(exc)


def cancel_sync(sync: CatalogSync) -> None:
    viewer = clicking_viewer()
    if viewer is None:
        return
    try:
        if not sync.cancel_sync(viewer.name):
            st.session_state[NOTICE] = "There was no sync to cancel: it had already ended."
    except SyncError as exc:  # CancelRefused: the sync is finalizing
        st.session_state[NOTICE] = f"Not cancelled: {exc}"
    except SQLAlchemyError as exc:
        st.session_state[NOTICE] = database_problem(exc)


def last_synced(sync: CatalogSync, status: OperationStatus | None):
    """When the last good sync finished, without a query on every 2 s rerun.

    The answer can only change when the newest operation changes or ends, so it is kept in the
    session keyed on that operation's id and status.
    """
    if status is not None and status.status.succeeded:
        return status.finished_at
    key = (id(sync), status.id if status else None, status.status if status else None)
    memo = st.session_state.get("last-synced-memo")
    if memo is None or memo[0] != key:
        memo = (key, sync.last_synced_at())
        st.session_state["last-synced-memo"] = memo
    return memo[1]


def render_controls(dash: Dashboard, status: OperationStatus | None, synced_at) -> None:
    active = bool(status and status.is_active)
    can_sync = dash.viewer.can_sync
    row = st.container(
        horizontal=True, vertical_alignment="center", gap="medium", key="sync-controls"
    )
    row.button(
        "Syncing..." if active else "Sync Now",
        key="sync-now",
        type="primary",
        icon=":material/hourglass_top:" if active else ":material/sync:",
        disabled=active or not can_sync,
        on_click=start_sync,
        args=(dash.sync,),
        width=BUTTON_WIDTH,
        help=dash.viewer.read_only_reason
        if not can_sync
        else (
            "A sync is running; the button comes back when it ends."
            if active
            else "Read the sheet and bring the catalog up to date."
        ),
    )
    # The Cancel slot is always drawn, so "Last synced" keeps its place in the row when
    # Cancel comes and goes: an element that moves is drawn anew while its old copy lingers.
    cancel_slot = row.container(width="content", key="cancel-slot")
    if active:
        finalizing = status is not None and status.stage == SyncStage.FINALIZING.value
        cancel_slot.button(
            "Cancel",
            key="cancel-sync",
            icon=":material/stop_circle:",
            disabled=not can_sync or bool(status and status.cancel_requested) or finalizing,
            on_click=cancel_sync,
            args=(dash.sync,),
            width=BUTTON_WIDTH,
            help="The sync is finalizing: its removals and result are being recorded, which "
            "cannot be stopped now."
            if finalizing
            else "Stop the sync after the batch it is writing; albums already written stay.",
        )
    with row:
        render_last_synced(synced_at)


def sync_page() -> None:
    dash = open_dashboard()
    zone = viewer_zone()
    st.title("Catalog Sync", anchor=False)
    st.caption(plain(f"Keeps the album catalog in step with {dash.settings.describe_sheet()}."))
    if dash.settings.is_demo:
        st.caption(DEMO_NOTE)
    render_account(dash.viewer)

    with problems_shown():
        status = dash.sync.current_status()
        synced_at = last_synced(dash.sync, status)
    render_controls(dash, status, synced_at)
    with problems_shown():
        render_operations(dash.sync, status, zone)

    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.warning(plain(notice), icon=":material/info:")

    if status is None:
        hint = " Press **Sync Now** to fill the catalog from the sheet."
        if not dash.viewer.can_sync:
            hint = ""
        st.info(f"No sync has run yet.{hint}", icon=":material/arrow_upward:")
    elif status.is_active:
        render_progress(status, zone)
        st_autorefresh(interval=REFRESH_MS, key="sync-refresh")
    else:
        st.subheader("Last sync", anchor=False)
        with problems_shown():
            render_outcome(status, dash.sync, zone)
    if dash.settings.is_demo:
        st.info(DEMO_HOWTO, icon=":material/science:")
    watch_for_new_sync(dash.sync, status)


st.set_page_config(page_title="Catalog Sync", page_icon=":material/album:", layout="wide")
# The pages/ folder beside this file would also make Streamlit's first run in a process show
# its old file-name navigation ("app", "catalog", "history"): .streamlit/config.toml turns that
# off (client.showSidebarNavigation), and this is the only navigation.
navigation = st.navigation(
    [
        st.Page(sync_page, title="Sync", icon=":material/sync:", default=True),
        st.Page("pages/catalog.py", title="Catalog", icon=":material/library_music:"),
        st.Page("pages/history.py", title="History", icon=":material/history:"),
    ],
    position="top",
)
navigation.run()
