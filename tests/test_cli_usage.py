"""The command line's answers in the cases a new user trips on: busy as JSON, bad options,
nothing to cancel, what a cancelled sync waits for, a URL without its scheme, the failed rows
and the removed albums of the catalog. Real processes on a real SQLite file."""

from __future__ import annotations

import io
import json
import time

import pytest

from synccore import operations
from synccore.cli import TerminalProgress, fit_message
from synccore.config import Settings
from synccore.db import Database
from synccore.models import SyncStage
from synccore.operations import Progress

from .support.albums import album, write_sheet_csv
from .support.processes import run_synccore as synccore


def claim_for(tmp_path, who: str = "alice") -> int:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    return operations.claim(Database(url), Settings(database_url=url), who)


@pytest.mark.slow
def test_sync_json_while_busy_prints_who_holds_the_slot_as_json(tmp_path):
    holder = claim_for(tmp_path)
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(1)])
    done = synccore(tmp_path, "sync", "--json", env={"SYNCCORE_SHEET": str(sheet)})
    assert done.returncode == 3
    busy = json.loads(done.stdout)
    assert busy["status"] == "busy"
    assert (busy["operation_id"], busy["triggered_by"]) == (holder, "alice")
    assert busy["started_at"].startswith(time.strftime("%Y-", time.gmtime()))
    assert busy["message"].startswith("Sync already in progress (started by alice at ")


@pytest.mark.slow
def test_a_negative_limit_is_a_usage_error(tmp_path):
    done = synccore(tmp_path, "albums", "--limit", "-5")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: synccore albums")
    assert "argument --limit: must be 0 or more, got -5" in done.stderr
    assert "must be 0 or more" in synccore(tmp_path, "history", "--limit", "-1").stderr


@pytest.mark.slow
def test_cancel_with_nothing_running_exits_0(tmp_path):
    done = synccore(tmp_path, "cancel")
    assert (done.returncode, done.stdout) == (0, "No sync is running: nothing to cancel.\n")


@pytest.mark.slow
def test_cancel_says_what_the_sync_is_waiting_for(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    db = Database(url)
    op = operations.claim(db, Settings(database_url=url), "alice")
    done = synccore(tmp_path, "cancel")
    assert done.returncode == 0
    assert done.stdout == (
        f"Cancel requested for sync #{op}. It has not started reading the sheet yet and "
        "stops before it does.\n"
    )
    operations.write_progress(db, op, Progress(SyncStage.FETCHING, "Reading tab 1 of 2..."))
    assert "It is reading the sheet and stops within about a second" in (
        synccore(tmp_path, "cancel").stdout
    )
    operations.write_progress(db, op, Progress(SyncStage.PROCESSING, "Syncing album 5 of 9..."))
    done = synccore(tmp_path, "cancel")
    assert "stops after its current batch" not in done.stdout
    assert "It is writing a batch of albums and stops once that batch is committed" in done.stdout


@pytest.mark.slow
def test_sheets_api_url_without_a_scheme_fails_at_once(tmp_path):
    started = time.monotonic()
    done = synccore(
        tmp_path,
        "sync",
        env={"SYNCCORE_SHEET": "abc123", "SYNCCORE_SHEETS_API_URL": "localhost:8080"},
    )
    assert time.monotonic() - started < 20  # no retries: the process start is most of it
    assert done.returncode == 1
    assert done.stderr == (
        "Configuration problem: SYNCCORE_SHEETS_API_URL must start with http:// or https://, "
        "got 'localhost:8080' (did you mean 'http://localhost:8080'?).\n"
    )


@pytest.mark.slow
def test_errors_lists_a_syncs_failed_rows_as_text_and_json(tmp_path):
    rows = [album(1), album(2, artist=""), album(3), album(4, album="")]
    env = {"SYNCCORE_SHEET": str(write_sheet_csv(tmp_path / "sheet.csv", rows))}
    assert synccore(tmp_path, "sync", env=env).returncode == 0
    done = synccore(tmp_path, "errors", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Sync #1: 2 rows could not be used.",
        "  'sheet' row 3: Missing artist name  [2025-03-03 |  | Album 2 | Post-Rock | Mixed | Japan]",
        "  'sheet' row 5: Missing album name  [2025-03-05 | Artist 4 |  | Doom | Clean | Finland]",
    ]
    listed = json.loads(synccore(tmp_path, "errors", "--sync", "1", "--json", env=env).stdout)
    assert (listed["sync"], listed["failed"]) == (1, 2)
    assert [(r["sheet_row"], r["reason"]) for r in listed["rows"]] == [
        (3, "Missing artist name"),
        (5, "Missing album name"),
    ]
    missing = synccore(tmp_path, "errors", "--sync", "7", env=env)
    assert missing.returncode == 1
    assert missing.stderr == "There is no sync #7 (see `synccore history`).\n"


@pytest.mark.slow
def test_albums_removed_lists_only_the_albums_marked_removed(tmp_path):
    sheet = tmp_path / "sheet.csv"
    env = {"SYNCCORE_SHEET": str(sheet)}
    write_sheet_csv(sheet, [album(n) for n in range(4)])
    assert synccore(tmp_path, "sync", env=env).returncode == 0
    write_sheet_csv(sheet, [album(n) for n in range(3)])
    assert synccore(tmp_path, "sync", env=env).returncode == 0
    removed = json.loads(synccore(tmp_path, "albums", "--removed", "--json", env=env).stdout)
    assert removed["total"] == 1
    assert [(a["title"], a["removed"]) for a in removed["albums"]] == [("Album 3", True)]
    assert json.loads(synccore(tmp_path, "albums", "--json", env=env).stdout)["total"] == 3


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_fits_80_columns_and_keeps_its_count(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    terminal = FakeTerminal()
    message = "Reading tab 3 of 9: 2023 Prog-metal (the long-named tab)... 1,200 of 1,421 rows"
    TerminalProgress(terminal)(Progress(SyncStage.FETCHING, message, processed=1200, total=1421))
    line = terminal.getvalue().removeprefix("\r\x1b[2K")
    assert len(line) <= 79
    assert line.endswith("… 1,200 of 1,421 rows")
    assert line.startswith("[") and "84% Reading tab 3 of 9" in line


def test_fit_message_cuts_the_description_not_the_count():
    assert fit_message("Syncing album 5 of 9...", 40) == "Syncing album 5 of 9..."
    assert (
        fit_message("Reading a long tab name... 10 of 20 rows", 25) == "Reading a … 10 of 20 rows"
    )
    assert fit_message("no count here at all", 10) == "no count …"


@pytest.mark.slow
def test_the_demo_honours_the_worksheet_setting_like_a_real_sheet(tmp_path):
    done = synccore(tmp_path, "sync", env={"SYNCCORE_WORKSHEET": "NoSuchTab"})
    assert done.returncode == 1
    assert 'Sync failed: The spreadsheet has no worksheet "NoSuchTab".' in done.stdout
    assert '"2024 Prog-metal" (gid 102)' in done.stdout  # the same list a real sheet gives

    done = synccore(tmp_path, "sync", "--json", env={"SYNCCORE_WORKSHEET": "2024 Prog-metal"})
    assert done.returncode == 0, done.stderr
    assert [tab["name"] for tab in json.loads(done.stdout)["worksheets"]] == ["2024 Prog-metal"]
