"""One sync at a time, across threads and processes, guaranteed by the database."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from synccore import operations
from synccore.config import Settings
from synccore.db import Database
from synccore.errors import SyncAlreadyRunning
from synccore.models import SyncOperation, SyncResult, SyncStage
from synccore.operations import Progress
from synccore.progress import Reporter
from synccore.service import CatalogSync
from synccore.status import utcnow

CLAIM_IN_PROCESS = """
import sys, time
from synccore import operations
from synccore.config import Settings
from synccore.db import Database
from synccore.errors import SyncAlreadyRunning
url, start = sys.argv[1], float(sys.argv[2])
db = Database(url)
settings = Settings(database_url=url)
while time.time() < start:
    time.sleep(0.001)
try:
    print("claimed", operations.claim(db, settings, "process"))
except SyncAlreadyRunning as exc:
    print("busy", exc)
"""


def active_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).where(SyncOperation.active_slot.is_not(None)))


def test_second_claim_is_refused_with_who_and_when(database_url):
    db = Database(database_url)
    settings = Settings(database_url=database_url)
    first = operations.claim(db, settings, "alice")
    with pytest.raises(SyncAlreadyRunning) as caught:
        operations.claim(db, settings, "bob")
    assert caught.value.operation_id == first
    assert str(caught.value).startswith("Sync already in progress (started by alice at ")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncOperation)) == 1


def test_sixteen_threads_and_four_processes_start_exactly_one(database_url):
    db = Database(database_url)
    settings = Settings(database_url=database_url)
    start = time.time() + 3.0  # processes import and connect first, then all fire at once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM_IN_PROCESS, database_url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results: list[str] = []
    barrier = threading.Barrier(16)

    def trigger() -> None:
        barrier.wait()
        while time.time() < start:
            time.sleep(0.001)
        try:
            operations.claim(db, settings, "thread")
            results.append("claimed")
        except SyncAlreadyRunning:
            results.append("busy")

    threads = [threading.Thread(target=trigger) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        results.append(out.split()[0])
    assert sorted(results).count("claimed") == 1, results
    assert results.count("busy") == 19
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SyncOperation)) == 1
    assert active_count(db) == 1


def test_stale_heartbeat_is_retired_as_interrupted_and_frees_the_slot(database_url):
    db = Database(database_url)
    settings = Settings(database_url=database_url, heartbeat_timeout=30)
    dead = operations.claim(db, settings, "crashed process")
    with db.write() as s:
        s.execute(
            update(SyncOperation)
            .where(SyncOperation.id == dead)
            .values(heartbeat_at=utcnow() - timedelta(seconds=31))
        )
    fresh = operations.claim(db, settings, "next user")
    assert fresh != dead
    with db.session() as s:
        op = s.get(SyncOperation, dead)
        assert op.status == "interrupted" and op.active_slot is None
        assert "heartbeat" in op.error
        assert s.get(SyncResult, dead).status == "interrupted"


def test_fresh_heartbeat_keeps_blocking(database_url):
    db = Database(database_url)
    settings = Settings(database_url=database_url, heartbeat_timeout=30)
    operations.claim(db, settings, "alive")
    assert operations.recover_stale(db, 30) == 0
    with pytest.raises(SyncAlreadyRunning):
        operations.claim(db, settings, "other")


def test_current_status_retires_a_dead_sync(database_url):
    sync = CatalogSync(Settings(database_url=database_url, heartbeat_timeout=1))
    op_id = operations.claim(sync.db, sync.settings, "ghost")
    assert sync.current_status().is_active
    time.sleep(1.2)
    status = sync.current_status()
    assert status.id == op_id and status.status.value == "interrupted"


def test_cancel_without_active_sync_says_so(database_url):
    sync = CatalogSync(Settings(database_url=database_url))
    assert sync.cancel_sync("someone") is False


def test_reporter_writes_at_most_once_per_interval(sqlite_url):
    db = Database(sqlite_url)
    op_id = operations.claim(db, Settings(database_url=sqlite_url), "tester")
    now = [0.0]
    reporter = Reporter(db, op_id, interval=0.5, clock=lambda: now[0])
    for i in range(1000):  # 1000 albums in 0.1 s of fake time
        now[0] = i / 10_000
        reporter.update(Progress(SyncStage.PROCESSING, f"Syncing album {i}", processed=i))
    assert reporter.writes == 1
    now[0] = 0.6
    reporter.update(Progress(SyncStage.PROCESSING, "Syncing album 1000", processed=1000))
    assert reporter.writes == 2
    reporter.update(Progress(SyncStage.FINALIZING, "Finalizing synchronization..."))
    assert reporter.writes == 3  # a stage change is always written
