"""A sync killed at any moment loses nothing: SIGKILL during fetch, mid-batch and at finalize,
and SIGTERM (a normal stop).

Each cycle starts from a catalog fully synced to one version of the sheet, serves the other
version on the fake Sheets API (1 s latency, so fetching takes seconds) and runs
`python -m synccore sync` with small batches. The test watches the operation's stage in the
database and kills the process at a random moment of the aimed stage. Then:

- every album equals either the old or the new version of its sheet row (content hashes), the
  albums already at the new version are a whole number of batches from the top of the sheet
  (never a partial batch), and removals happened all together or not at all;
- the killed operation is marked interrupted once its heartbeat is stale, and blocks nothing;
- the next sync brings the catalog exactly to the sheet.

Fast: one kill per stage per database; `-m soak`: 20 per database.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from synccore import CatalogSync, SyncStatus
from synccore.config import resolve_sqlite_path
from synccore.db import Database, normalize_url
from synccore.models import SyncOperation, SyncResult

from .support.albums import album
from .support.paths import ROOT
from .support.processes import running_stage, start_synccore, synccore_env
from .support.sheets import (
    Expected,
    active_operations,
    api_settings,
    assert_between_versions,
    assert_catalog_equals,
    expected_from_rows,
    serve_sheet,
    sheet_api,
    stored_albums,
)
from .support.waiting import wait_for

pytestmark = pytest.mark.slow  # real processes

ALBUMS = 1_800  # one fetch chunk (FIRST_CHUNK_ROWS = 2,000), so batches start at the top
MOVED = 200  # albums that leave the sheet (and others that join it) between versions
BATCH = 5
HEARTBEAT_TIMEOUT = 2.0
STAGES = ("fetching", "processing", "finalizing")


def sheet_version(v: int) -> list[list]:
    """Version 0 and 1 differ in every album's genre, and in which MOVED albums are listed."""
    first = 0 if v % 2 == 0 else MOVED
    return [album(i, genre=f"Genre {v % 2} {i % 5}") for i in range(first, first + ALBUMS)]


@pytest.fixture
def sheet_server():
    with sheet_api(latency=1.0) as server:
        yield server


def cli_env(database_url: str, server, **extra: str) -> dict[str, str]:
    """Small batches, a short heartbeat timeout, a removal guard that lets MOVED albums go."""
    settings = dict(
        SYNCCORE_BATCH_SIZE=str(BATCH),
        SYNCCORE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        SYNCCORE_REMOVAL_GUARD="0.9",
    )
    return synccore_env(database_url, server, **(settings | extra))


def aim(db: Database, proc: subprocess.Popen, stage: str) -> int:
    """Wait until `proc`'s sync reaches `stage` (or a later one); return the operation id.

    Finalizing lasts milliseconds, so the cycles hold the sync in its removal step (the
    `.hold` file of SYNCCORE_TEST_REMOVAL_HOOK): a kill aimed there always lands there."""
    later = STAGES[STAGES.index(stage) :]

    def reached():
        found = running_stage(db, proc)
        if found and found[1] in later:
            return found
        if proc.poll() is not None:
            raise AssertionError(f"the sync ended before {stage}: {proc.communicate()}")
        return None

    return wait_for(reached, 120, f"the sync to reach {stage}", every=0.005)[0]


def assert_interrupted_and_not_blocking(sync: CatalogSync, op_id: int) -> None:
    status = wait_for(
        lambda: (s := sync.current_status()) and not s.is_active and s,
        30,
        "the killed sync to be retired",
    )
    assert status.id == op_id
    assert status.status is SyncStatus.INTERRUPTED
    assert "heartbeat" in status.error and "run the sync again" in status.error
    assert not active_operations(sync.db)
    with sync.db.session() as s:
        assert s.get(SyncResult, op_id).status == "interrupted"


def kill_cycles(
    database_url: str, server, tmp_path: Path, stages: list[str], seed: int
) -> list[str]:
    rng = random.Random(seed)
    version = 0
    rows = sheet_version(version)
    serve_sheet(server, rows)
    sync = CatalogSync(
        api_settings(
            server.url, database_url, heartbeat_timeout=HEARTBEAT_TIMEOUT, removal_guard=0.9
        )
    )
    assert sync.run_sync("setup").status is SyncStatus.COMPLETED
    outcomes = []
    try:
        for n, stage in enumerate(stages):
            old = expected_from_rows(rows)
            version += 1
            rows = sheet_version(version)
            new = expected_from_rows(rows)
            serve_sheet(server, rows)
            hook = tmp_path / f"removals-{n}"
            Path(f"{hook}.hold").touch()  # the sync waits in its removal step: finalizing
            proc = start_removal_sync(database_url, server, hook)
            try:
                op_id = aim(sync.db, proc, stage)
                if stage == "finalizing":
                    in_removal_step(hook, proc)
                time.sleep(rng.uniform(0, {"fetching": 0.8, "processing": 0.15}.get(stage, 0.01)))
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
            with sync.db.session() as s:
                killed = s.get(SyncOperation, op_id)
                was_active, killed_stage = killed.active_slot is not None, killed.stage
            outcomes.append(f"{stage}->{killed_stage if was_active else 'finished'}")
            assert was_active, "the kill came after the sync had finished"
            if stage == "finalizing":
                assert killed_stage == "finalizing"
            assert_between_versions(sync.db, old, new, op_id, BATCH)
            if was_active:
                assert_interrupted_and_not_blocking(sync, op_id)
            after = sync.run_sync("recovery")
            assert after.status is SyncStatus.COMPLETED, after.error
            assert_catalog_equals(sync.db, new)
    finally:
        sync.close()
    return outcomes


def test_sigkill_during_fetch_mid_batch_and_at_finalize_loses_nothing(
    database_url, sheet_server, tmp_path
):
    kill_cycles(database_url, sheet_server, tmp_path, list(STAGES), seed=1)


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_twenty_sigkills_at_random_moments_lose_nothing(database_url, sheet_server, tmp_path):
    rng = random.Random(20)
    stages = [rng.choice(STAGES) for _ in range(20)]
    outcomes = kill_cycles(database_url, sheet_server, tmp_path, stages, seed=20)
    print("kill outcomes:", outcomes)


@pytest.mark.parametrize("stage", ["fetching", "processing"])
def test_sigterm_stops_promptly_and_marks_interrupted_without_heartbeat_wait(
    database_url, sheet_server, stage
):
    rows = sheet_version(0)
    serve_sheet(sheet_server, rows)
    sync = CatalogSync(api_settings(sheet_server.url, database_url, heartbeat_timeout=3600))
    # a heartbeat timeout of an hour: only the SIGTERM handler can end this operation now
    proc = start_synccore(
        cli_env(
            database_url, sheet_server, SYNCCORE_HEARTBEAT_TIMEOUT="3600", SYNCCORE_BATCH_SIZE="2"
        )
    )
    try:
        op_id = aim(sync.db, proc, stage)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    status = sync.operation(op_id)
    assert status.status is SyncStatus.INTERRUPTED
    assert status.message == "Sync interrupted: the server is shutting down."
    assert "Run the sync again" in status.error
    assert f"Sync #{op_id}: interrupted" in out
    assert not active_operations(sync.db)
    assert_between_versions(sync.db, Expected({}), expected_from_rows(rows), op_id, batch=2)
    assert sync.run_sync("next").status is SyncStatus.COMPLETED
    assert_catalog_equals(sync.db, expected_from_rows(rows))
    sync.close()


def in_transaction(sync: CatalogSync, database_url: str) -> bool:
    """Whether the frozen child holds a transaction open (and with it, locks)."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(resolve_sqlite_path(database_url), timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    tag = database_url.rsplit("application_name=", 1)[1]
    with sync.db.session() as s:
        return bool(
            s.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag "
                    "AND state <> 'idle' AND pid <> pg_backend_pid()"
                ),
                {"tag": tag},
            )
        )


def freeze_between_transactions(
    proc: subprocess.Popen, sync: CatalogSync, database_url: str
) -> None:
    """SIGSTOP the child at a moment it holds no transaction open. (Frozen inside one, it
    holds its locks until its connection dies, and the database makes others wait for it.)"""
    for _ in range(500):
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.05)  # let the stop land and the server see the session's state
        if not in_transaction(sync, database_url):
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(random.uniform(0, 0.01))
    raise AssertionError("could not freeze the sync outside a transaction")


def test_a_sync_retired_as_stale_while_frozen_writes_nothing_when_it_wakes(
    database_url, sheet_server
):
    """A process frozen past the heartbeat timeout (SIGSTOP: a VM pause, a network partition)
    is retired and another sync may start; when it wakes it must not write another batch."""
    rows = sheet_version(0)
    serve_sheet(sheet_server, rows)
    if not database_url.startswith("sqlite"):  # to find the child's sessions
        database_url += f"&application_name=frozen_{os.getpid()}_{time.monotonic_ns()}"
    sync = CatalogSync(
        api_settings(sheet_server.url, database_url, heartbeat_timeout=HEARTBEAT_TIMEOUT)
    )
    proc = start_synccore(cli_env(database_url, sheet_server, SYNCCORE_BATCH_SIZE="2"))
    try:
        op_id = aim(sync.db, proc, "processing")
        freeze_between_transactions(proc, sync, database_url)
        assert_interrupted_and_not_blocking(sync, op_id)
        written = [a.key for a in stored_albums(sync.db) if a.last_sync_id == op_id]
        proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [a.key for a in stored_albums(sync.db) if a.last_sync_id == op_id] == written
    assert proc.returncode == 1, out + err
    status = sync.operation(op_id)
    assert status.status is SyncStatus.INTERRUPTED and "heartbeat" in status.error
    assert sync.run_sync("next").status is SyncStatus.COMPLETED
    assert_catalog_equals(sync.db, expected_from_rows(rows))
    sync.close()


def test_sigterm_during_a_stalled_google_request_still_marks_interrupted_at_once(
    database_url, sheet_server
):
    """Google stalls (the request would wait out its 60 s timeout): a stop must not wait."""
    serve_sheet(sheet_server, sheet_version(0))
    sheet_server.inject("slow", times=1, path_contains="/v4/spreadsheets", delay=600)
    sync = CatalogSync(api_settings(sheet_server.url, database_url, heartbeat_timeout=3600))
    proc = start_synccore(
        cli_env(
            database_url,
            sheet_server,
            SYNCCORE_HEARTBEAT_TIMEOUT="3600",
            SYNCCORE_REQUEST_TIMEOUT="600",
        )
    )
    try:
        op_id = aim(sync.db, proc, "fetching")
        wait_for(lambda: sheet_server.request_log, 30, "the stalled request")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)  # far less than the stalled request's 600 s
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out + err
    status = sync.operation(op_id)
    assert status.status is SyncStatus.INTERRUPTED
    assert status.message == "Sync interrupted: the server is shutting down."
    assert not active_operations(sync.db)
    assert stored_albums(sync.db) == []
    sync.close()


@pytest.mark.postgres
def test_retiring_a_stale_sync_never_waits_on_its_locked_row(postgres_url):
    """A sync frozen while committing holds its operation's row lock: the status read that
    retires stale syncs (the dashboard's 2 s rerun) must skip it, not hang on it."""
    import threading
    from datetime import timedelta

    from sqlalchemy import update

    from synccore import operations
    from synccore.status import utcnow

    sync = CatalogSync(api_settings("http://127.0.0.1:9", postgres_url, heartbeat_timeout=1))
    op_id = operations.claim(sync.db, sync.settings, "frozen while committing")
    with sync.db.write() as s:
        s.execute(
            update(SyncOperation)
            .where(SyncOperation.id == op_id)
            .values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
    locker = sa.create_engine(normalize_url(postgres_url))
    with locker.begin() as conn:  # holds the row lock, as a sync's fence does until commit
        conn.execute(select(SyncOperation.id).where(SyncOperation.id == op_id).with_for_update())
        result = []
        reader = threading.Thread(target=lambda: result.append(sync.current_status()), daemon=True)
        reader.start()
        reader.join(timeout=20)
        assert result, "current_status() waited on the locked operation row"
        assert result[0].id == op_id and result[0].is_active  # not provably dead: kept
    assert sync.current_status().status is SyncStatus.INTERRUPTED  # lock gone: retired
    locker.dispose()
    sync.close()


# -- the removal step: all or nothing ---------------------------------------------------------


def start_removal_sync(database_url: str, server, hook: Path, **extra: str) -> subprocess.Popen:
    """A CLI sync whose removal step marks 50 albums per statement, noting each in `hook` and
    pausing 0.2 s (see `synccore.sync.REMOVAL_HOOK_ENV`): MOVED = 200 takes about 0.8 s."""
    env = cli_env(database_url, server, SYNCCORE_TEST_REMOVAL_HOOK=str(hook), **extra)
    return start_synccore(env)


def in_removal_step(hook: Path, proc: subprocess.Popen) -> int:
    """Wait until the sync has marked its first albums removed, inside the removal transaction
    (not yet committed); return its operation id."""

    def marked() -> int | None:
        if hook.exists() and hook.read_text().strip():
            return int(hook.read_text().split()[0])
        if proc.poll() is not None:
            raise AssertionError(f"the sync ended before its removal step: {proc.communicate()}")
        return None

    return wait_for(marked, 120, "the sync's removal step", every=0.005)


def assert_removals_all_or_none(db: Database, op_id: int, gone: set[str]) -> int:
    """Every album that left the sheet is marked removed, or none is; the operation (and its
    history row, once it has one) records exactly how many. Returns that number."""
    albums = {a.key: a for a in stored_albums(db)}
    marked = {k for k in gone if albums[k].removed}
    assert marked in (set(), gone), f"{len(marked)} of {len(gone)} removals committed"
    by_op = sum(1 for a in albums.values() if a.removed and a.last_sync_id == op_id)
    assert by_op == len(marked)
    with db.session() as s:
        assert s.get(SyncOperation, op_id).removed == len(marked)
        result = s.get(SyncResult, op_id)
        assert result is None or result.removed == len(marked)
    return len(marked)


def removal_kill_cycles(
    database_url: str, server, tmp_path: Path, delays: list[float]
) -> list[str]:
    """For each delay: a sync is SIGKILLed that long after it first marked albums removed (in
    its removal transaction); then removals must be all or none and recorded truthfully."""
    version = 0
    rows = sheet_version(version)
    serve_sheet(server, rows)
    sync = CatalogSync(
        api_settings(
            server.url, database_url, heartbeat_timeout=HEARTBEAT_TIMEOUT, removal_guard=0.9
        )
    )
    assert sync.run_sync("setup").status is SyncStatus.COMPLETED
    outcomes = []
    try:
        for n, delay in enumerate(delays):
            old = expected_from_rows(rows)
            version += 1
            rows = sheet_version(version)
            new = expected_from_rows(rows)
            serve_sheet(server, rows)
            hook = tmp_path / f"removals-{n}"
            proc = start_removal_sync(database_url, server, hook)
            try:
                op_id = in_removal_step(hook, proc)
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                proc.communicate(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
            with sync.db.session() as s:
                killed = s.get(SyncOperation, op_id)
                was_active, stage = killed.active_slot is not None, killed.stage
            if was_active:
                assert stage == "finalizing"
            assert_between_versions(sync.db, old, new, op_id, BATCH)
            removed = assert_removals_all_or_none(sync.db, op_id, old.keys - new.keys)
            if was_active:
                assert_interrupted_and_not_blocking(sync, op_id)
                assert assert_removals_all_or_none(sync.db, op_id, old.keys - new.keys) == removed
            outcomes.append(f"{'killed' if was_active else 'finished'}, {removed} removed")
            after = sync.run_sync("recovery")
            assert after.status is SyncStatus.COMPLETED, after.error
            assert after.removed == MOVED - removed
            assert_catalog_equals(sync.db, new)
    finally:
        sync.close()
    return outcomes


def test_sigkill_during_the_removal_step_leaves_all_or_none_removed(
    database_url, sheet_server, tmp_path
):
    outcomes = removal_kill_cycles(database_url, sheet_server, tmp_path, [0.0, 0.4])
    assert outcomes == ["killed, 0 removed", "killed, 0 removed"], outcomes


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_twenty_sigkills_during_the_removal_step_leave_all_or_none_removed(
    database_url, sheet_server, tmp_path
):
    rng = random.Random(21)
    # mostly inside the removal transaction (about 0.8 s), sometimes just after its commit
    outcomes = removal_kill_cycles(
        database_url, sheet_server, tmp_path, [rng.uniform(0, 1.2) for _ in range(20)]
    )
    print("kill outcomes:", outcomes)
    assert any(o == "killed, 0 removed" for o in outcomes), outcomes


def synced_to_version_zero(database_url: str, server) -> tuple[CatalogSync, Expected, Expected]:
    """A catalog synced to version 0 while version 1 is served: (sync, old, new)."""
    serve_sheet(server, sheet_version(0))
    sync = CatalogSync(
        api_settings(server.url, database_url, heartbeat_timeout=3600, removal_guard=0.9)
    )
    assert sync.run_sync("setup").status is SyncStatus.COMPLETED
    serve_sheet(server, sheet_version(1))
    return sync, expected_from_rows(sheet_version(0)), expected_from_rows(sheet_version(1))


def test_sigterm_during_the_removal_step_removes_none_and_says_so(
    database_url, sheet_server, tmp_path
):
    sync, old, new = synced_to_version_zero(database_url, sheet_server)
    hook = tmp_path / "removals"
    proc = start_removal_sync(database_url, sheet_server, hook, SYNCCORE_HEARTBEAT_TIMEOUT="3600")
    try:
        op_id = in_removal_step(hook, proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out + err
    status = sync.operation(op_id)
    assert status.status is SyncStatus.INTERRUPTED, status
    assert status.message == "Sync interrupted: the server is shutting down."
    assert assert_removals_all_or_none(sync.db, op_id, old.keys - new.keys) == 0
    assert status.removed == 0
    after = sync.run_sync("next")
    assert after.status is SyncStatus.COMPLETED and after.removed == MOVED
    assert_catalog_equals(sync.db, new)
    sync.close()


@pytest.mark.postgres
def test_database_sessions_lost_during_the_removal_step_remove_none(
    postgres_url, sheet_server, tmp_path
):
    tag = f"removals_{os.getpid()}_{time.monotonic_ns()}"
    database_url = f"{postgres_url}&application_name={tag}"
    sync, old, new = synced_to_version_zero(postgres_url, sheet_server)
    hook = tmp_path / "removals"
    proc = start_removal_sync(database_url, sheet_server, hook, SYNCCORE_HEARTBEAT_TIMEOUT="3600")
    try:
        op_id = in_removal_step(hook, proc)
        with sync.db.session() as s:
            ended = s.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :tag"
                ),
                {"tag": tag},
            ).all()
        assert ended
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out + err
    status = sync.operation(op_id)
    assert status.status is SyncStatus.FAILED, status
    assert status.message == "Sync failed: the database was unavailable."
    assert assert_removals_all_or_none(sync.db, op_id, old.keys - new.keys) == 0
    after = sync.run_sync("next")
    assert after.status is SyncStatus.COMPLETED and after.removed == MOVED
    assert_catalog_equals(sync.db, new)
    sync.close()


def test_a_cancel_during_the_removal_step_is_refused_and_the_sync_completes(
    database_url, sheet_server, tmp_path
):
    sync, old, new = synced_to_version_zero(database_url, sheet_server)
    hook = tmp_path / "removals"
    hold = tmp_path / "removals.hold"
    hold.touch()  # the removal step waits while this file exists
    proc = start_removal_sync(database_url, sheet_server, hook, SYNCCORE_HEARTBEAT_TIMEOUT="3600")
    try:
        op_id = in_removal_step(hook, proc)
        cancel = subprocess.Popen(
            [sys.executable, "-m", "synccore", "cancel"],
            cwd=ROOT,
            env=cli_env(database_url, sheet_server),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        cancel.wait(timeout=60)  # answered while the removal step is held open
        hold.unlink()
        cancel_out, cancel_err = cancel.communicate(timeout=60)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert cancel.returncode == 1, cancel_out + cancel_err
    assert cancel_out.startswith("Not cancelled: The sync is finalizing"), cancel_out
    assert proc.returncode == 0, out + err
    status = sync.operation(op_id)
    assert status.status is SyncStatus.COMPLETED and not status.cancel_requested
    assert status.removed == MOVED
    assert assert_removals_all_or_none(sync.db, op_id, old.keys - new.keys) == MOVED
    assert_catalog_equals(sync.db, new)
    sync.close()


# -- a sync frozen inside a batch transaction (PostgreSQL) ------------------------------------


def holds_uncommitted_albums(sync: CatalogSync, tag: str) -> bool:
    """Whether a session tagged `tag` sits in an open transaction that has written albums
    (it holds the albums table's RowExclusiveLock, and with it the rows it wrote)."""
    with sync.db.session() as s:
        return bool(
            s.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
                    "WHERE a.application_name = :tag AND a.state = 'idle in transaction' "
                    "AND l.relation = 'albums'::regclass AND l.mode = 'RowExclusiveLock' "
                    "AND l.granted"
                ),
                {"tag": tag},
            )
        )


def freeze_inside_a_batch(proc: subprocess.Popen, sync: CatalogSync, tag: str) -> None:
    """SIGSTOP the child at a moment its batch transaction has written albums, uncommitted."""
    for _ in range(1000):
        proc.send_signal(signal.SIGSTOP)
        time.sleep(0.05)  # let the stop land and the server finish the statement in flight
        if holds_uncommitted_albums(sync, tag):
            return
        proc.send_signal(signal.SIGCONT)
        time.sleep(random.uniform(0, 0.02))
    raise AssertionError("could not freeze the sync inside a batch transaction")


@pytest.mark.postgres
def test_a_sync_frozen_inside_a_batch_does_not_hold_up_the_next_one(postgres_url, sheet_server):
    """Before: the frozen sync was retired, but its open transaction kept its locks for as long
    as its connection lived, and the next sync waited on them indefinitely (heartbeating, so
    never retired itself). Now the server ends a write transaction idle for longer than the
    heartbeat timeout, and no write waits on a lock for longer than that."""
    rows = sheet_version(0)
    serve_sheet(sheet_server, rows)
    tag = f"frozen_batch_{os.getpid()}_{time.monotonic_ns()}"
    sync = CatalogSync(
        api_settings(sheet_server.url, postgres_url, heartbeat_timeout=HEARTBEAT_TIMEOUT)
    )
    batch = 50  # a longer INSERT, so a stop lands inside a batch sooner
    proc = start_synccore(
        cli_env(f"{postgres_url}&application_name={tag}", sheet_server, SYNCCORE_BATCH_SIZE="50")
    )
    try:
        op_id = aim(sync.db, proc, "processing")
        freeze_inside_a_batch(proc, sync, tag)
        assert_interrupted_and_not_blocking(sync, op_id)
        assert_between_versions(sync.db, Expected({}), expected_from_rows(rows), op_id, batch)
        written = sorted(a.key for a in stored_albums(sync.db) if a.last_sync_id == op_id)
        assert len(written) % batch == 0

        outcome: list = []
        started = time.monotonic()
        nxt = threading.Thread(target=lambda: outcome.append(sync.run_sync("next")), daemon=True)
        nxt.start()
        # the sheet takes about 3 s to read (1 s per request); the lock wait is bounded by the
        # heartbeat timeout; the rest is margin for a busy machine
        nxt.join(timeout=HEARTBEAT_TIMEOUT + 25)
        assert outcome, (
            f"the next sync was still running after {time.monotonic() - started:.0f} s: "
            "waiting on the frozen sync's locks"
        )
        assert outcome[0].status is SyncStatus.COMPLETED, outcome[0].error
        assert_catalog_equals(sync.db, expected_from_rows(rows))

        proc.send_signal(signal.SIGCONT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 1, out + err
    assert sorted(a.key for a in stored_albums(sync.db) if a.last_sync_id == op_id) == written
    status = sync.operation(op_id)
    assert status.status is SyncStatus.INTERRUPTED and "heartbeat" in status.error
    assert_catalog_equals(sync.db, expected_from_rows(rows))
    sync.close()


@pytest.mark.postgres
def test_a_sync_blocked_on_another_sessions_lock_fails_clearly_within_the_timeout(
    postgres_url, tmp_path
):
    """Whatever holds the catalog's locks (here a session that locked a lookup table), a sync
    waits no longer than the heartbeat timeout for them, then fails saying so."""
    from synccore.config import Settings

    from .support.albums import write_sheet_csv

    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(10)])
    sync = CatalogSync(Settings(database_url=postgres_url, sheet=str(sheet), heartbeat_timeout=2))
    locker = sa.create_engine(normalize_url(postgres_url))
    with locker.begin() as conn:
        conn.execute(sa.text("LOCK TABLE artists IN EXCLUSIVE MODE"))
        started = time.monotonic()
        status = sync.run_sync("tester")
        took = time.monotonic() - started
    locker.dispose()
    assert status.status is SyncStatus.FAILED
    assert status.message == "Sync failed: the catalog stayed locked by another database session."
    assert "longer than the heartbeat timeout (2 s)" in status.error
    assert took < 2 + 15
    assert stored_albums(sync.db) == [] and not active_operations(sync.db)
    assert sync.run_sync("tester").status is SyncStatus.COMPLETED
    sync.close()
