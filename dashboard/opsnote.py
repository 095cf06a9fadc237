"""Beside "Last synced": the schedule, the next run, the worker's state, and a warning when
the catalog is stale. Built from `CatalogSync.health()`, which reads a few small rows, so it
is memoised for 30 s per session (and whenever the newest sync changes)."""

from __future__ import annotations

import time
from datetime import tzinfo

import streamlit as st

from dashboard.text import plain
from dashboard.timefmt import format_time
from synccore import CatalogSync, OperationStatus, notify
from synccore.health import Health, age, human_age

MEMO_SECONDS = 30


def schedule_line(health: Health) -> str | None:
    """'Next scheduled sync: in 3 h (every 6h)', or why no scheduled sync will happen."""
    f = health.facts
    if f.schedule is None:
        return None
    if not f.worker_running:
        return (
            f"No worker is running: the schedule ({plain(f.schedule.describe())}) starts no syncs "
            "until `synccore worker` runs."
        )
    if f.next_run is None or f.next_run <= f.now:
        return f"Next scheduled sync: due now ({plain(f.schedule.describe())})"
    wait = human_age((f.next_run - f.now).total_seconds())
    return f"Next scheduled sync: in {wait} ({plain(f.schedule.describe())})"


def stale_warning(health: Health, zone: tzinfo) -> str | None:
    f = health.facts
    if not f.is_stale or f.last_success_at is None:
        return None
    return (
        f"The catalog is {human_age(age(f.now, f.last_success_at))} old: the last successful "
        f"sync was {format_time(f.last_success_at, zone)}."
    )


def _health(sync: CatalogSync, status: OperationStatus | None) -> Health:
    key = (id(sync), status.id if status else None, status.status if status else None)
    memo = st.session_state.get("health-memo")
    now = time.monotonic()
    if memo is None or memo[0] != key or now - memo[1] > MEMO_SECONDS:
        memo = (key, now, sync.health())
        st.session_state["health-memo"] = memo
        notify.notify_if_stale(sync, memo[2])  # whoever notices first; once per episode
    return memo[2]


def render_operations(sync: CatalogSync, status: OperationStatus | None, zone: tzinfo) -> None:
    health = _health(sync, status)
    line = schedule_line(health)
    if line and health.facts.worker_running:
        st.caption(line)
    elif line:
        st.warning(line, icon=":material/schedule:")
    warning = stale_warning(health, zone)
    if warning:
        st.warning(plain(warning), icon=":material/hourglass_bottom:")
