"""Exactly one sync per burst of simultaneous triggers, from threads and separate processes.

Each round fires 32 triggers at one instant: 16 threads in this process press Sync the way the
dashboard does (`start_sync`, the sync runs in a daemon thread) and 4 processes with 4 threads
each run it the way the command line does (`run_sync`). The sheet is served by the fake Sheets
API with 1 s latency, so the winning sync lasts seconds and every other trigger of the round
lands while it runs. Fast: 3 rounds per database; `-m soak`: 20.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from synccore import CatalogSync, SyncAlreadyRunning, SyncStatus, operations
from synccore.models import SyncOperation, SyncResult
from synccore.standin import FakeSheetsServer
from synccore.status import utcnow

from .support.paths import ROOT
from .support.processes import running_stage, start_synccore, synccore_env
from .support.sheets import (
    active_operations,
    api_settings,
    assert_catalog_equals,
    expected_from_rows,
    operation_count,
    serve_sheet,
    sheet_api,
    version_rows,
)
from .support.waiting import wait_for

pytestmark = pytest.mark.slow  # real processes

PROCESSES, THREADS_PER_PROCESS, LOCAL_THREADS = 4, 4, 16
TRIGGERS = PROCESSES * THREADS_PER_PROCESS + LOCAL_THREADS  # 32


@pytest.fixture
def slow_sheet_api():
    with sheet_api(latency=1.0) as server:
        yield server


class TriggerProcesses:
    """The separate processes, started once and driven round by round over stdin/stdout."""

    def __init__(self, database_url: str, api_url: str):
        self.procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.trigger",
                    database_url,
                    api_url,
                    str(THREADS_PER_PROCESS),
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        for p in self.procs:
            line = p.stdout.readline()
            assert line.strip() == "ready", p.stderr.read()

    def fire(self, round_no: int, start: float) -> None:
        for p in self.procs:
            p.stdin.write(f"{round_no} {start}\n")
            p.stdin.flush()

    def results(self) -> list[list]:
        outcomes: list[list] = []
        for p in self.procs:
            line = p.stdout.readline()
            assert line, p.stderr.read()
            outcomes.extend(json.loads(line))
        return outcomes

    def close(self) -> None:
        for p in self.procs:
            p.stdin.close()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def local_triggers(sync: CatalogSync, start: float, round_no: int) -> list[threading.Thread]:
    """16 threads pressing Sync like the dashboard; each appends its outcome to `.outcomes`."""
    outcomes: list[list] = []

    def press(i: int) -> None:
        while time.time() < start:
            time.sleep(0.0005)
        try:
            outcomes.append(["started", sync.start_sync(f"dashboard trigger {round_no}.{i}")])
        except SyncAlreadyRunning as exc:
            outcomes.append(["busy", str(exc)])
        except Exception as exc:  # noqa: BLE001 - recorded, and the round fails on it
            outcomes.append(["error", f"{type(exc).__name__}: {exc}"])

    threads = [threading.Thread(target=press, args=(i,)) for i in range(LOCAL_THREADS)]
    for t in threads:
        t.outcomes = outcomes  # type: ignore[attr-defined]
        t.start()
    return threads


def plant_dead_sync(sync: CatalogSync) -> int:
    """An operation holding the slot whose process died an hour ago (heartbeat stale)."""
    op_id = operations.claim(sync.db, sync.settings, "a crashed process")
    with sync.db.write() as s:
        s.execute(
            update(SyncOperation)
            .where(SyncOperation.id == op_id)
            .values(heartbeat_at=utcnow() - timedelta(hours=1))
        )
    return op_id


def run_rounds(
    database_url: str, server: FakeSheetsServer, rounds: int, dead_holder: bool = False
) -> None:
    rows = version_rows(40, 0)
    serve_sheet(server, rows)
    sync = CatalogSync(api_settings(server.url, database_url))
    procs = TriggerProcesses(database_url, server.url)
    try:
        for round_no in range(rounds):
            dead = plant_dead_sync(sync) if dead_holder else None
            before = operation_count(sync.db)
            start = time.time() + 0.5
            procs.fire(round_no, start)
            threads = local_triggers(sync, start, round_no)
            for t in threads:
                t.join()
            outcomes = threads[0].outcomes + procs.results()

            assert len(outcomes) == TRIGGERS
            assert not [o for o in outcomes if o[0] == "error"], outcomes
            winners = [o for o in outcomes if o[0] in ("ran", "started")]
            busy = [o for o in outcomes if o[0] == "busy"]
            assert len(winners) == 1, f"round {round_no}: {winners}"
            assert len(busy) == TRIGGERS - 1
            assert all(m.startswith("Sync already in progress (started by ") for _, m in busy)
            wait_for(lambda: not active_operations(sync.db), 60, f"round {round_no} to finish")
            assert operation_count(sync.db) == before + 1  # the losers started nothing
            assert sync.current_status().status is SyncStatus.COMPLETED
            assert sync.current_status().id == winners[0][1]
            if dead is not None:  # retired once, by whichever trigger looked first
                assert sync.operation(dead).status is SyncStatus.INTERRUPTED
        assert_catalog_equals(sync.db, expected_from_rows(rows))
        finished = [h.status for h in sync.history(limit=2 * rounds + 1)]
        assert finished.count(SyncStatus.COMPLETED) == rounds
        assert finished.count(SyncStatus.INTERRUPTED) == (rounds if dead_holder else 0)
    finally:
        procs.close()
        sync.close()


def test_each_round_of_32_simultaneous_triggers_starts_exactly_one_sync(
    database_url, slow_sheet_api
):
    run_rounds(database_url, slow_sheet_api, rounds=3)


def test_32_triggers_against_a_dead_holder_retire_it_once_and_start_one_sync(
    database_url, slow_sheet_api
):
    run_rounds(database_url, slow_sheet_api, rounds=1, dead_holder=True)


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_twenty_rounds_of_32_simultaneous_triggers_start_one_sync_each(
    database_url, slow_sheet_api
):
    run_rounds(database_url, slow_sheet_api, rounds=20)


# -- one clock: hosts whose clocks differ judge heartbeats alike (PostgreSQL) -----------------

SKEW = 120  # seconds, far more than the heartbeat timeout
HEARTBEAT_TIMEOUT = 2.0


@pytest.fixture
def faketime() -> str:
    """Debian's faketime (libfaketime), which moves one process's clock (scripts/test
    installs it)."""
    path = shutil.which("faketime")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("faketime is not installed (apt-get install faketime)")
        pytest.skip("faketime is not installed (apt-get install faketime)")
    return path


def skewed_cli(faketime: str, offset: int, env: dict[str, str], *args: str):
    """`python -m synccore ARGS` in a process whose wall clock is moved by `offset` seconds."""
    env = dict(env, FAKETIME_DONT_FAKE_MONOTONIC="1")
    return subprocess.run(
        [faketime, "-f", f"{offset:+d}s", sys.executable, "-m", "synccore", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_faketime_really_moves_the_clock(faketime):
    moved = subprocess.run(
        [faketime, "-f", f"+{SKEW}s", sys.executable, "-c", "import time; print(time.time())"],
        capture_output=True,
        text=True,
        env=dict(os.environ, FAKETIME_DONT_FAKE_MONOTONIC="1"),
        check=True,
    )
    assert float(moved.stdout) - time.time() > SKEW - 10


@pytest.mark.postgres
def test_a_host_whose_clock_is_ahead_never_retires_a_healthy_sync(
    postgres_url, slow_sheet_api, faketime
):
    """Before: the fast host judged the healthy sync's heartbeat by its own clock, found it
    two minutes old, retired it ("stopped responding") and started a second sync."""
    serve_sheet(slow_sheet_api, version_rows(40, 0))
    # the healthy sync's first request takes 25 s (it heartbeats meanwhile), so it is surely
    # running while the moved processes start and look
    slow_sheet_api.inject("slow", times=1, delay=25)
    env = synccore_env(
        postgres_url,
        slow_sheet_api,
        SYNCCORE_BATCH_SIZE="5",
        SYNCCORE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
    )
    sync = CatalogSync(api_settings(slow_sheet_api.url, postgres_url))
    healthy = start_synccore(env)
    try:
        wait_for(lambda: running_stage(sync.db, healthy), 60, "the healthy sync to start")
        time.sleep(HEARTBEAT_TIMEOUT)
        status = skewed_cli(faketime, SKEW, env, "status", "--json")
        assert json.loads(status.stdout)["operation"]["status"] == "running", status
        moved = skewed_cli(faketime, SKEW, env, "sync")
        assert moved.returncode == 3, moved
        assert "Sync already in progress (started by " in moved.stderr
        assert healthy.poll() is None, "the healthy sync ended before the moved process looked"
        out, err = healthy.communicate(timeout=120)
    finally:
        if healthy.poll() is None:
            healthy.kill()
    assert healthy.returncode == 0, out + err
    assert [h.status for h in sync.history()] == [SyncStatus.COMPLETED]
    assert operation_count(sync.db) == 1
    sync.close()


@pytest.mark.postgres
def test_a_host_whose_clock_is_behind_retires_a_dead_sync_after_the_timeout(
    postgres_url, slow_sheet_api, faketime
):
    """Before: the slow host saw the dead sync's last heartbeat two minutes in its future and
    kept refusing to sync for the timeout plus the skew."""
    serve_sheet(slow_sheet_api, version_rows(40, 0))
    env = synccore_env(
        postgres_url,
        slow_sheet_api,
        SYNCCORE_BATCH_SIZE="5",
        SYNCCORE_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
    )
    sync = CatalogSync(api_settings(slow_sheet_api.url, postgres_url))
    dying = start_synccore(env)
    try:
        dead = wait_for(lambda: running_stage(sync.db, dying), 60, "the sync to start")[0]
        dying.send_signal(signal.SIGKILL)
        dying.communicate(timeout=30)
    finally:
        if dying.poll() is None:
            dying.kill()
    time.sleep(HEARTBEAT_TIMEOUT + 1)
    behind = skewed_cli(faketime, -SKEW, env, "sync")
    assert behind.returncode == 0, behind
    with sync.db.session() as s:
        retired = s.get(SyncOperation, dead)
        assert retired.status == "interrupted" and "heartbeat" in retired.error
        # judged by one clock: retired no sooner than the timeout after its last heartbeat
        stale_for = (retired.finished_at - retired.heartbeat_at).total_seconds()
        assert HEARTBEAT_TIMEOUT <= stale_for < HEARTBEAT_TIMEOUT + 30
        assert s.get(SyncResult, dead).status == "interrupted"
    assert [h.status for h in sync.history()] == [SyncStatus.COMPLETED, SyncStatus.INTERRUPTED]
    sync.close()
