"""`synccore worker` as operators run it: real processes on one database, the fake Sheets API.

Two workers keep one `every 2s` schedule: syncs start on the schedule's ticks, never two at
once, and each due time runs once (the database decides which worker takes it).
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from synccore import CatalogSync, SyncStatus
from synccore.models import ScheduledRun, SyncOperation, SyncWorker
from synccore.progress import SHUTDOWN_MESSAGE
from synccore.status import utcnow

from .support.albums import album
from .support.paths import ROOT
from .support.processes import start_worker, stop, stop_all, worker_env
from .support.sheets import api_settings, serve_sheet, sheet_api
from .support.waiting import wait_for

pytestmark = pytest.mark.slow  # real processes


def operations_in_order(sync: CatalogSync) -> list[SyncOperation]:
    with sync.db.session() as s:
        return list(s.scalars(select(SyncOperation).order_by(SyncOperation.started_at)))


@pytest.fixture
def sheet_server():
    with sheet_api(latency=0.4) as server:  # a sync takes about a second: ticks collide
        serve_sheet(server, [album(n) for n in range(30)])
        yield server


def test_two_workers_run_each_due_time_once_and_never_two_syncs_at_once(database_url, sheet_server):
    env = worker_env(database_url, sheet_server, SYNCCORE_SCHEDULE="every 2s")
    # both start together on a fresh database: the migrations serialise on their lock
    workers = [start_worker(env), start_worker(env)]
    try:
        sync = CatalogSync(api_settings(sheet_server.url, database_url))
        wait_for(lambda: len(operations_in_order(sync)) >= 5, 90, "five scheduled syncs")
        with sync.db.session() as s:
            assert s.scalar(select(SyncWorker.id).limit(1)) is not None  # heartbeats recorded
    finally:
        results = stop_all(workers)
    for code, err in results:
        assert code == 0, err
        assert "started: schedule every 2s" in err and "stopped" in err
    assert any("scheduled sync #" in err for _, err in results)

    ops = operations_in_order(sync)
    assert all(op.trigger == "schedule" and op.triggered_by == "schedule (every 2s)" for op in ops)
    assert all(op.active_slot is None for op in ops)
    assert {op.status for op in ops[:-2]} == {SyncStatus.COMPLETED.value}
    for op in ops[-2:]:  # the stop may interrupt the last one
        assert op.status == SyncStatus.COMPLETED.value or op.message == SHUTDOWN_MESSAGE
    for earlier, later in zip(ops, ops[1:], strict=False):
        assert later.started_at >= earlier.finished_at, "two syncs ran at once"
        gap = (later.started_at - earlier.started_at).total_seconds()
        assert gap >= 1.99, "started before the schedule's tick"
        assert gap % 2 < 1.9, f"started {gap % 2:.1f} s after a tick"
    with sync.db.session() as s:
        runs = s.scalars(select(ScheduledRun)).all()
        worker_rows = s.scalars(select(SyncWorker)).all()
    started = [r.operation_id for r in runs if r.operation_id is not None]
    assert sorted(started) == sorted(op.id for op in ops), "each sync belongs to one due time"
    assert len(set(r.scheduled_for for r in runs)) == len(runs)
    assert worker_rows == []  # a clean stop removes the worker's row
    assert {h.started_via for h in sync.history()} == {"Schedule"}
    sync.close()


def test_interval_waits_for_a_recent_sync_and_runs_at_once_for_an_old_one(sqlite_url, sheet_server):
    sync = CatalogSync(api_settings(sheet_server.url, sqlite_url))
    first = sync.run_sync("alice")

    def age_last_sync(minutes: int) -> None:
        with sync.db.write() as s:
            s.execute(
                update(SyncOperation)
                .where(SyncOperation.id == first.id)
                .values(started_at=utcnow() - timedelta(minutes=minutes))
            )

    age_last_sync(30)
    worker = start_worker(worker_env(sqlite_url, sheet_server, SYNCCORE_SCHEDULE="every 1h"))
    try:
        wait_for(lambda: sync.health().facts.worker_running, 60, "the worker's heartbeat")
        assert worker.poll() is None
        time.sleep(3)
        assert len(operations_in_order(sync)) == 1  # synced 30 min ago: next in 30 min
        facts = sync.health().facts
        assert (
            facts.next_run is not None
            and 29 * 60 < (facts.next_run - facts.now).total_seconds() <= 30 * 60
        )
        age_last_sync(61)
        wait_for(lambda: len(operations_in_order(sync)) == 2, 30, "the overdue sync")
    finally:
        code, err = stop(worker)
    assert code == 0, err
    assert operations_in_order(sync)[-1].trigger == "schedule"
    sync.close()


def test_sigterm_marks_the_workers_running_sync_interrupted_at_once(sqlite_url):
    with sheet_api(latency=3.0) as server:  # the sync sits in a slow Google request
        serve_sheet(server, [album(n) for n in range(5)])
        sync = CatalogSync(api_settings(server.url, sqlite_url))
        worker = start_worker(
            worker_env(
                sqlite_url,
                server,
                SYNCCORE_SCHEDULE="every 1h",
                SYNCCORE_HEARTBEAT_TIMEOUT="3600",
            )
        )
        try:
            wait_for(lambda: sync.current_status() is not None, 60, "the scheduled sync")
            op_id = sync.current_status().id
            began = time.monotonic()
            code, err = stop(worker)
            took = time.monotonic() - began
        finally:
            if worker.poll() is None:
                worker.kill()
    assert code == 0, err
    assert took < 10
    status = sync.operation(op_id)
    assert status.status is SyncStatus.INTERRUPTED and status.message == SHUTDOWN_MESSAGE
    assert sync.current_status().id == op_id  # nothing else started, nothing left active
    sync.close()


def test_worker_with_nothing_to_do_says_what_to_set(sqlite_url, fake_sheets):
    worker = start_worker(worker_env(sqlite_url, fake_sheets))
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 1
    assert "Nothing to do: set SYNCCORE_SCHEDULE" in err


def test_worker_mode_a_worker_takes_the_dashboards_sync_within_2_s(sqlite_url, sheet_server):
    settings = api_settings(sheet_server.url, sqlite_url, run_syncs_in="worker")
    dashboard = CatalogSync(settings)
    worker = start_worker(worker_env(sqlite_url, sheet_server, SYNCCORE_RUN_SYNCS_IN="worker"))
    try:
        wait_for(lambda: dashboard.health().facts.worker_seen_at is not None, 60, "the worker")
        op_id = dashboard.start_sync("alice@example.com", trigger="dashboard")
        began = time.monotonic()
        with dashboard.db.session() as s:
            assert s.get(SyncOperation, op_id).awaiting_worker  # left for the worker
        wait_for(lambda: not _awaiting(dashboard, op_id), 10, "the worker to take the sync")
        assert time.monotonic() - began < 2.0
        wait_for(lambda: not dashboard.operation(op_id).is_active, 60, "the sync to end")
    finally:
        code, err = stop(worker)
    assert code == 0, err
    assert dashboard.operation(op_id).status is SyncStatus.COMPLETED
    assert dashboard.history()[0].started_via == "Person (dashboard), run by a worker"
    assert f"running sync #{op_id}, started from the dashboard" in err
    dashboard.close()


def _awaiting(sync: CatalogSync, op_id: int) -> bool:
    with sync.db.session() as s:
        return bool(s.get(SyncOperation, op_id).awaiting_worker)


def test_worker_mode_without_a_worker_ends_interrupted_with_the_fix(sqlite_url, fake_sheets):
    settings = api_settings(
        fake_sheets.url, sqlite_url, run_syncs_in="worker", heartbeat_timeout=1.0
    )
    dashboard = CatalogSync(settings)
    op_id = dashboard.start_sync("alice@example.com", trigger="dashboard")
    assert dashboard.current_status().is_active
    time.sleep(1.5)
    status = dashboard.current_status()
    assert status.id == op_id and status.status is SyncStatus.INTERRUPTED
    assert status.message == "No worker picked up this sync: start `synccore worker`."
    assert "SYNCCORE_RUN_SYNCS_IN" in status.error
    dashboard.close()


def test_cli_sync_runs_in_the_foreground_even_in_worker_mode(sqlite_url, sheet_server):
    env = worker_env(sqlite_url, sheet_server, SYNCCORE_RUN_SYNCS_IN="worker")
    done = subprocess.run(
        [sys.executable, "-m", "synccore", "sync"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    sync = CatalogSync(api_settings(sheet_server.url, sqlite_url))
    assert sync.history()[0].started_via == "Command line"
    sync.close()


def test_old_due_times_are_forgotten_but_not_the_first_run(sqlite_url):
    from datetime import UTC, datetime

    from synccore import worker_state
    from synccore.schedule import NEVER

    sync = CatalogSync(api_settings("http://127.0.0.1:9", sqlite_url))
    now = datetime.now(UTC)
    for due in (NEVER, now - timedelta(days=8), now - timedelta(days=6)):
        assert worker_state.decide_due_time(sync.db, due, "w1")
    assert not worker_state.decide_due_time(sync.db, NEVER, "w2")  # the database decides
    worker_state.record_due_outcome(sync.db, now - timedelta(days=6), None, "skipped")
    with sync.db.session() as s:
        kept = sorted(r.scheduled_for for r in s.scalars(select(ScheduledRun)))
    assert kept == [NEVER.replace(tzinfo=None), (now - timedelta(days=6)).replace(tzinfo=None)]
    sync.close()
