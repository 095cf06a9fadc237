"""The command line as a user runs it: a real process, a real SQLite file, exit codes, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synccore import operations
from synccore.config import Settings
from synccore.db import Database

from .support.albums import album, write_sheet_csv
from .support.processes import run_synccore

pytestmark = pytest.mark.slow  # real processes


def test_zero_configuration_syncs_the_demo_sheet_into_sqlite(tmp_path):
    done = run_synccore(tmp_path, "sync")
    assert done.returncode == 0, done.stderr
    assert "syncing the bundled demo sheet" in done.stderr
    assert done.stdout.startswith(
        "Sync #1: completed_with_warnings\n  Sync completed with warnings: "
    )
    assert (tmp_path / "catalog.db").exists()

    status = json.loads(run_synccore(tmp_path, "status", "--json").stdout)
    assert status["operation"]["status"] == "completed_with_warnings"
    assert status["operation"]["is_active"] is False
    assert status["source"] == "the bundled demo sheet"
    assert status["last_synced_at"]

    albums = json.loads(run_synccore(tmp_path, "albums", "--json", "--limit", "3").stdout)
    assert albums["total"] > 2_900 and len(albums["albums"]) == 3
    assert albums["albums"][0]["release"] >= albums["albums"][-1]["release"]  # newest first


def test_sync_json_and_history_json(tmp_path):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(5)])
    env = {"SYNCCORE_SHEET": str(sheet)}
    done = run_synccore(tmp_path, "sync", "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["created"], result["triggered_by"]) == (
        "completed",
        5,
        operations.default_user(),
    )
    history = json.loads(run_synccore(tmp_path, "history", "--json", env=env).stdout)
    assert [h["status"] for h in history] == ["completed"]
    assert history[0]["total"] == 5
    assert (history[0]["trigger"], history[0]["started_via"]) == ("cli", "Command line")
    text = run_synccore(tmp_path, "history", env=env).stdout
    assert text.rstrip().endswith(f"by {operations.default_user()} (Command line)")


def test_failed_sync_exits_1_with_the_reason(tmp_path):
    done = run_synccore(tmp_path, "sync", env={"SYNCCORE_SHEET": str(tmp_path / "gone.csv")})
    assert done.returncode == 1
    assert "Sync failed: The CSV file" in done.stdout and "does not exist" in done.stdout


def test_sync_while_another_is_active_exits_3_and_starts_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    holder = operations.claim(Database(url), Settings(database_url=url), "alice")
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(1)])
    done = run_synccore(tmp_path, "sync", env={"SYNCCORE_SHEET": str(sheet)})
    assert done.returncode == 3
    assert done.stderr.startswith("Sync already in progress (started by alice at ")
    status = json.loads(run_synccore(tmp_path, "status", "--json").stdout)
    assert status["operation"]["id"] == holder and status["operation"]["is_active"]


def test_cancel_asks_the_active_sync_to_stop(tmp_path):
    assert run_synccore(tmp_path, "cancel").stdout == "No sync is running: nothing to cancel.\n"
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    operations.claim(Database(url), Settings(database_url=url), "alice")
    done = run_synccore(tmp_path, "cancel")
    assert done.returncode == 0 and "Cancel requested" in done.stdout
    status = json.loads(run_synccore(tmp_path, "status", "--json").stdout)
    assert status["operation"]["cancel_requested"] is True


def test_bad_setting_is_a_clear_message_not_a_traceback(tmp_path):
    done = run_synccore(tmp_path, "status", env={"SYNCCORE_REMOVAL_GUARD": "half"})
    assert done.returncode == 1
    assert (
        done.stderr
        == "Configuration problem: SYNCCORE_REMOVAL_GUARD must be a number, got 'half'.\n"
    )


@pytest.mark.parametrize("password", ["s3cr3t-Pa55"])
def test_database_password_is_never_printed(tmp_path, password):
    env = {"SYNCCORE_DATABASE_URL": f"postgresql://nobody:{password}@127.0.0.1:1/none"}
    done = run_synccore(tmp_path, "status", env=env)
    assert done.returncode == 1
    assert password not in done.stdout + done.stderr
    assert done.stderr == (
        "The catalog database did not answer (OperationalError). Check SYNCCORE_DATABASE_URL "
        "(postgresql://nobody:***@127.0.0.1:1/none) and that the database server is "
        "running.\n"
    )


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("synccore")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "sync" in done.stdout
