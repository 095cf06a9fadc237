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
from synccore.errors import CancelRefused, SyncAlreadyRunning
from synccore.models import SyncOperation, SyncResult, SyncStage
from synccore.operations import Progress
from synccore.progress import Reporter
from synccore.service import CatalogSync
from synccore.status import utcnow

from .support.albums import album, write_sheet_csv

CLAIM_IN_PROCESS = """
import sys, time
from synccore import operations
from synccore.config import Settings
from synccore.db import Database
from synccore.errors import CancelRefused, SyncAlreadyRunning
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


@pytest.mark.slow  # real processes
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
    sync = CatalogSync(Settings(database_url=database_url, heartbeat_timeout=30))
    op_id = operations.claim(sync.db, sync.settings, "ghost")
    assert sync.current_status().is_active
    # its last heartbeat just past the timeout, on the database's clock (no sleeping against it)
    with sync.db.write() as s:
        s.execute(
            update(SyncOperation)
            .where(SyncOperation.id == op_id)
            .values(heartbeat_at=sync.db.now() - timedelta(seconds=31))
        )
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


def test_a_cancel_is_honoured_up_to_finalizing_and_refused_from_then_on(database_url):
    """The sync reads the cancel flag in the same transaction that moves it to finalizing,
    and a cancel is accepted only while the stage is not finalizing: never both, never lost."""
    db = Database(database_url)
    settings = Settings(database_url=database_url)
    early = operations.claim(db, settings, "alice")
    assert operations.write_progress(db, early, Progress(SyncStage.PROCESSING, "")) is False
    assert operations.request_cancel(db, "bob") is True
    assert operations.write_progress(db, early, Progress(SyncStage.FINALIZING, "")) is True
    assert operations.request_cancel(db, "carol") is True  # still the truth: it will stop
    operations.finish(db, early, operations.SyncStatus.CANCELLED, "cancelled")

    late = operations.claim(db, settings, "alice")
    assert operations.write_progress(db, late, Progress(SyncStage.FINALIZING, "")) is False
    with pytest.raises(CancelRefused, match="finalizing .* can no longer be cancelled"):
        operations.request_cancel(db, "bob")
    with db.session() as s:
        assert s.get(SyncOperation, late).cancel_requested is False
    assert operations.heartbeat(db, late) is False


def test_a_cancel_during_finalizing_is_refused_and_removals_complete(database_url, tmp_path):
    """Old behaviour: the cancel was accepted ("Cancel requested") and silently ignored."""
    sheet = tmp_path / "sheet.csv"
    rows = [album(n) for n in range(10)]
    write_sheet_csv(sheet, rows)
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet)))
    sync.run_sync("setup")
    write_sheet_csv(sheet, rows[:7])
    refused: list[str] = []

    def cancel_when_finalizing(progress: Progress) -> None:
        if progress.stage is SyncStage.FINALIZING:
            with pytest.raises(CancelRefused) as caught:
                sync.cancel_sync("bob")
            refused.append(str(caught.value))

    status = sync.run_sync("alice", on_progress=cancel_when_finalizing)
    assert refused and "can no longer be cancelled" in refused[0]
    assert status.status.value == "completed" and status.removed == 3
    assert not status.cancel_requested
    assert sync.albums().total == 7
    sync.close()


def test_a_cancel_just_before_finalizing_removes_nothing_and_says_so(database_url, tmp_path):
    sheet = tmp_path / "sheet.csv"
    rows = [album(n) for n in range(10)]
    write_sheet_csv(sheet, rows)
    sync = CatalogSync(
        Settings(database_url=database_url, sheet=str(sheet), batch_size=2, progress_interval=0)
    )
    sync.run_sync("setup")
    write_sheet_csv(sheet, [album(n, genre="Sludge") for n in range(7)])

    def cancel_after_the_last_batch(progress: Progress) -> None:
        if progress.stage is SyncStage.PROCESSING and progress.processed == progress.total:
            assert sync.cancel_sync("bob") is True

    status = sync.run_sync("alice", on_progress=cancel_after_the_last_batch)
    assert status.status.value == "cancelled", status
    assert status.removed == 0
    assert status.message == (
        "Sync cancelled by bob. Albums synced before the cancel are kept and none was "
        "marked removed; run Sync again to finish."
    )
    assert sync.albums().total == 10  # nothing marked removed
    sync.close()


def test_a_cancel_while_reading_says_the_catalog_was_not_changed(database_url, tmp_path):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(10)])
    sync = CatalogSync(Settings(database_url=database_url, sheet=str(sheet), progress_interval=0))

    def cancel_while_reading(progress: Progress) -> None:
        if progress.stage is SyncStage.FETCHING:
            sync.cancel_sync("bob")

    status = sync.run_sync("alice", on_progress=cancel_while_reading)
    assert status.status.value == "cancelled", status
    assert status.message == (
        "Sync cancelled by bob before any album was written: the catalog was not changed."
    )
    assert sync.albums().total == 0
    sync.close()
