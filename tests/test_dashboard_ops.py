"""The Sync page's schedule, worker and staleness notes, and History's "Started via", through
Streamlit's AppTest on a real SQLite file (a worker's row is written by the real API)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from synccore import worker_state
from synccore.models import SyncOperation, SyncResult
from synccore.status import utcnow

from .support.dashboard import button, make_app, page_text
from .support.paths import ROOT


def test_schedule_without_a_worker_says_no_worker_is_running(secrets):
    secrets["SYNCCORE_SCHEDULE"] = "every 6h"
    text = page_text(make_app(secrets).run())
    assert (
        "No worker is running: the schedule (every 6h) starts no syncs until `synccore worker` "
        "runs." in text
    )


def test_running_worker_shows_the_next_scheduled_sync(secrets, other):
    sync = other
    sync.run_sync("alice", trigger="cli")
    # a worker elsewhere records its heartbeat and schedule; the page has no schedule setting
    worker_state.register_worker(sync.db, "w1", "every 6h", runs_syncs=False)
    text = page_text(make_app(secrets).run())
    assert "Next scheduled sync: in 5 h (every 6h)" in text
    assert "No worker is running" not in text


def test_stale_catalog_shows_a_warning(secrets, other):
    secrets["SYNCCORE_STALE_AFTER"] = "1h"
    sync = other
    op_id = sync.run_sync("alice").id
    assert "The catalog is" not in page_text(make_app(secrets).run())  # fresh
    with sync.db.write() as s:
        s.execute(
            update(SyncResult)
            .where(SyncResult.operation_id == op_id)
            .values(finished_at=utcnow() - timedelta(hours=3, minutes=1))
        )
    text = page_text(make_app(secrets).run())
    assert re.search(r"The catalog is 3 h old: the last successful sync was 20\d\d-", text), text


def test_history_shows_how_each_sync_was_started(secrets, other):
    sync = other
    sync.run_sync("alice@example.com", trigger="dashboard")
    sync.run_sync("ops", trigger="cli")
    sync.run_sync("schedule (every 6h)", trigger="schedule")
    at = AppTest.from_file(str(ROOT / "pages" / "history.py"), default_timeout=30)
    for key, value in secrets.items():
        at.secrets[key] = value
    at.run()
    table = at.dataframe[0].value
    assert list(table["Started via"]) == ["Schedule", "Command line", "Person (dashboard)"]


def test_sync_now_in_worker_mode_leaves_the_sync_for_a_worker(secrets, other):
    secrets["SYNCCORE_RUN_SYNCS_IN"] = "worker"
    at = make_app(secrets).run()
    button(at, "sync-now").click().run()
    sync = other
    status = sync.current_status()
    assert status is not None and status.is_active
    with sync.db.session() as s:
        op = s.get(SyncOperation, status.id)
        assert op.awaiting_worker and op.trigger == "dashboard" and op.status == "pending"
    assert button(at, "sync-now").label == "Syncing..."
    assert "Waiting for a worker to start this sync..." in page_text(at)
