"""`synccore check` as monitoring runs it: a real process, its exit code and its one line."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from synccore import operations
from synccore.config import Settings
from synccore.db import Database
from synccore.models import SyncOperation
from synccore.status import utcnow

from .support.albums import album, write_sheet_csv
from .support.processes import run_synccore

pytestmark = pytest.mark.slow  # real processes


def _env(tmp_path, **extra):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(3)])
    return {"SYNCCORE_SHEET": str(sheet), **extra}


def test_never_synced_is_2(tmp_path):
    done = run_synccore(tmp_path, "check")
    assert done.returncode == 2, done.stderr
    assert done.stdout == "STALE: the catalog was never synced successfully\n"


def test_healthy_after_a_sync_is_0_and_json_has_the_facts(tmp_path):
    env = _env(tmp_path)
    assert run_synccore(tmp_path, "sync", env=env).returncode == 0
    done = run_synccore(tmp_path, "check", env=env)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("OK: last successful sync ")
    data = json.loads(run_synccore(tmp_path, "check", "--json", env=env).stdout)
    assert data["code"] == 0 and data["last_outcome"]["status"] == "completed"
    assert data["last_success_at"] and data["schedule"] is None and data["stale"] is False


def test_last_sync_failed_is_1(tmp_path):
    env = _env(tmp_path)
    assert run_synccore(tmp_path, "sync", env=env).returncode == 0
    env["SYNCCORE_SHEET"] = str(tmp_path / "gone.csv")
    assert run_synccore(tmp_path, "sync", env=env).returncode == 1
    done = run_synccore(tmp_path, "check", env=env)
    assert done.returncode == 1
    assert done.stdout.startswith("FAILED: the last sync (#2) failed: Sync failed: The CSV file")


def test_stale_is_2(tmp_path):
    env = _env(tmp_path, SYNCCORE_STALE_AFTER="1s")
    assert run_synccore(tmp_path, "sync", env=env).returncode == 0
    time.sleep(1.5)
    done = run_synccore(tmp_path, "check", env=env)
    assert done.returncode == 2
    assert re.fullmatch(
        r"STALE: the catalog is stale: last successful sync \d+ s ago \(limit 1s\)\n", done.stdout
    )


def test_active_sync_with_a_stale_heartbeat_is_3_and_check_does_not_retire_it(tmp_path):
    env = _env(tmp_path)
    assert run_synccore(tmp_path, "sync", env=env).returncode == 0
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    db = Database(url)
    op_id = operations.claim(db, Settings(database_url=url), "alice")
    with db.write() as s:
        s.execute(
            update(SyncOperation)
            .where(SyncOperation.id == op_id)
            .values(heartbeat_at=utcnow() - timedelta(seconds=90))
        )
    done = run_synccore(tmp_path, "check", env=env)
    assert done.returncode == 3
    assert re.match(f"STUCK: sync #{op_id} is active but its heartbeat is 9\\d s old", done.stdout)
    assert operations.active_operation(db).id == op_id  # only reported


def test_schedule_without_a_worker_is_3_and_wins_over_a_failure(tmp_path):
    env = _env(tmp_path, SYNCCORE_SCHEDULE="every 6h")
    env["SYNCCORE_SHEET"] = str(tmp_path / "gone.csv")
    assert run_synccore(tmp_path, "sync", env=env).returncode == 1
    done = run_synccore(tmp_path, "check", env=env)
    assert done.returncode == 3
    assert done.stdout.startswith("STUCK: no worker is running for the schedule (every 6h); ")
    assert "the last sync (#1) failed" in done.stdout


def test_unreachable_database_is_3(tmp_path):
    done = run_synccore(
        tmp_path,
        "check",
        env={"SYNCCORE_DATABASE_URL": "postgresql://u:hunter2secret@127.0.0.1:9/none"},
    )
    assert done.returncode == 3
    assert "hunter2secret" not in done.stdout + done.stderr


def test_bad_schedule_is_a_configuration_problem(tmp_path):
    done = run_synccore(tmp_path, "check", env={"SYNCCORE_SCHEDULE": "every day"})
    assert done.returncode == 3
    assert "Configuration problem: SYNCCORE_SCHEDULE must be" in done.stderr
