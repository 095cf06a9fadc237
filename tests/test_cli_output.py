"""What the command line prints, run as a real process: sheet text never acts on the terminal,
and every problem is one clear line on stderr, never a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from synccore import operations
from synccore.config import Settings
from synccore.db import Database
from synccore.models import SyncStatus

from .support.albums import album, write_sheet_csv
from .support.processes import run_synccore

pytestmark = pytest.mark.slow  # real processes

# Raw control bytes a terminal acts on: C0 (newline aside, which the CLI itself prints), DEL
# and C1 (U+0080-U+009F, e.g. U+009B, the one-character CSI).
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")

CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # OSC 52: write the clipboard
CLEAR = "\x1b[2J"  # clear the screen
TITLE = "\x1b]0;owned\x07"  # set the window title
HEBREW = "שלום עולם"
ARABIC = "ألبوم الليل"


def hostile_rows() -> list[list]:
    return [
        album(1, artist=f"Evil{CLIPBOARD}Band", album=f"{CLEAR}Wipe"),
        album(2, artist="Bell\x07Ringer", album="Carriage\rReturn", genre=f"{TITLE}Doom"),
        album(3, artist="C1\x9b31mRed", album="Tab\there"),
        album(4, artist=HEBREW, album=ARABIC),
        album(5, artist="", album=f"Orphan{CLEAR}"),  # a row error
    ]


def assert_no_raw_controls(*outputs: str) -> None:
    for text in outputs:
        found = RAW_CONTROL.findall(text)
        assert not found, f"raw control characters {found!r} in {text!r}"


def test_sheet_text_is_printed_with_control_characters_escaped(tmp_path):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", hostile_rows())
    env = {"SYNCCORE_SHEET": str(sheet)}
    done = run_synccore(tmp_path, "sync", env=env)
    assert done.returncode == 0, done.stderr
    assert "row 6: Missing artist name" in done.stdout
    listed = run_synccore(tmp_path, "albums", env=env)
    assert listed.returncode == 0, listed.stderr
    outputs = [done.stdout, done.stderr, listed.stdout, listed.stderr]
    for command in ("status", "history"):
        shown = run_synccore(tmp_path, command, env=env)
        assert shown.returncode == 0, shown.stderr
        outputs += [shown.stdout, shown.stderr]
    assert_no_raw_controls(*outputs)
    # Escaped visibly, and everything else, right-to-left text included, as written.
    assert "Evil\\x1b]52;c;ZWNobyBwd25lZA==\\x07Band - \\x1b[2JWipe" in listed.stdout
    # The genre cell holds a ";", so it is a list of two genres, printed joined by ", "
    assert "Bell\\x07Ringer - Carriage\\rReturn  [\\x1b]0, owned\\x07Doom]" in listed.stdout
    assert "C1\\x9b31mRed - Tab\\there" in listed.stdout
    assert f"{HEBREW} - {ARABIC}" in listed.stdout


def test_json_output_keeps_the_text_and_escapes_every_control(tmp_path):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", hostile_rows())
    env = {"SYNCCORE_SHEET": str(sheet)}
    assert run_synccore(tmp_path, "sync", env=env).returncode == 0
    listed = run_synccore(tmp_path, "albums", "--json", env=env)
    assert_no_raw_controls(listed.stdout)  # json leaves DEL and C1 raw unless told
    artists = {a["artist"] for a in json.loads(listed.stdout)["albums"]}
    assert {f"Evil{CLIPBOARD}Band", "C1\x9b31mRed", HEBREW} <= artists


def test_status_and_history_escape_failure_messages_and_user_names(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    db = Database(url)
    op_id = operations.claim(db, Settings(database_url=url), f"eve{TITLE}")
    operations.finish(db, op_id, SyncStatus.CANCELLED, "Sync cancelled.")
    db.dispose()
    env = {"SYNCCORE_SHEET": str(tmp_path / f"gone{CLEAR}.csv")}
    failed = run_synccore(tmp_path, "sync", env=env)
    assert failed.returncode == 1
    assert "gone\\x1b[2J.csv" in failed.stdout
    status = run_synccore(tmp_path, "status", env=env)
    history = run_synccore(tmp_path, "history", env=env)
    assert "gone\\x1b[2J.csv" in status.stdout
    assert "by eve\\x1b]0;owned\\x07" in history.stdout
    assert_no_raw_controls(failed.stdout, failed.stderr, status.stdout, history.stdout)


# -- one line, never a traceback ----------------------------------------------------------------


def assert_one_line_problem(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n"), done.stderr
    assert done.stdout == ""
    return done.stderr.strip()


def test_sqlite_folder_blocked_by_a_file_is_one_line(tmp_path):
    (tmp_path / "data").write_text("not a folder")
    for url in (
        f"sqlite:///{tmp_path / 'data' / 'catalog.db'}",  # mkdir: FileExistsError
        f"sqlite:///{tmp_path / 'data' / 'sub' / 'catalog.db'}",  # NotADirectoryError
    ):
        done = run_synccore(tmp_path, "status", env={"SYNCCORE_DATABASE_URL": url})
        line = assert_one_line_problem(done)
        assert line.startswith("Configuration problem: The SQLite database's folder ")
        assert str(tmp_path / "data") in line


@pytest.mark.parametrize("url", ["mysql://user:pw@127.0.0.1/catalog", "mssql+pyodbc://h/db"])
def test_database_driver_not_installed_is_one_line(tmp_path, url):
    line = assert_one_line_problem(
        run_synccore(tmp_path, "status", env={"SYNCCORE_DATABASE_URL": url})
    )
    assert "driver is not installed" in line
    assert "sqlite:///path/to/catalog.db or postgresql://user@host/dbname" in line
    assert "pw" not in line


def test_unknown_database_kind_is_one_line(tmp_path):
    done = run_synccore(tmp_path, "status", env={"SYNCCORE_DATABASE_URL": "oracle9://h/db"})
    assert "does not support (oracle9)" in assert_one_line_problem(done)


def test_closed_pipe_ends_quietly(tmp_path):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(3_000)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCCORE_")}
    env["SYNCCORE_SHEET"] = str(sheet)
    assert run_synccore(tmp_path, "sync", env={"SYNCCORE_SHEET": str(sheet)}).returncode == 0
    # 3,000 lines are far more than a pipe holds, so the CLI writes after `head` has gone.
    done = subprocess.run(
        [
            "bash",
            "-o",
            "pipefail",
            "-c",
            f"{sys.executable} -m synccore albums --limit 3000 | head -1",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr == ""
    assert done.stdout.count("\n") == 1
    assert done.returncode in (0, 141)


# -- a SQLite file or folder that cannot be written --------------------------------------------


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """`path` cannot be written while inside. Root ignores file modes, so as root the file is
    made immutable (chattr +i), which binds root too; otherwise its mode loses the write bits."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: nothing makes a file unwritable for root")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_unwritable_sqlite_folder_is_named(tmp_path):
    folder = tmp_path / "readonly"
    folder.mkdir()
    url = f"sqlite:///{folder / 'catalog.db'}"
    with unwritable(folder):
        done = run_synccore(tmp_path, "status", env={"SYNCCORE_DATABASE_URL": url})
    line = assert_one_line_problem(done)
    assert line.startswith(f"The folder {folder} cannot be written"), line
    assert "server is running" not in line


def test_unwritable_sqlite_file_is_named(tmp_path):
    sheet = write_sheet_csv(tmp_path / "sheet.csv", [album(n) for n in range(3)])
    database = tmp_path / "data" / "catalog.db"
    env = {"SYNCCORE_DATABASE_URL": f"sqlite:///{database}", "SYNCCORE_SHEET": str(sheet)}
    assert run_synccore(tmp_path, "sync", env=env).returncode == 0
    with unwritable(database):
        done = run_synccore(tmp_path, "sync", env=env)
    line = assert_one_line_problem(done)
    assert line.startswith(f"The SQLite file {database} cannot be written"), line
    assert "server is running" not in line
