"""The dashboard's pure helpers: wording, escaping, CSV safety, access rules, settings docs."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from datetime import UTC, datetime

import pandas as pd
import pytest

from dashboard.catalogview import albums_frame, page_count, showing_caption
from dashboard.context import claim_is_true, may_sync, read_only_reason
from dashboard.csvexport import frame_csv, neutralise_cell
from dashboard.historyview import history_frame
from dashboard.lastsync import last_synced_html
from dashboard.rowerrors import row_errors_csv
from dashboard.syncstatus import count_metrics, is_wait_message, outcome_text, stage_heading
from dashboard.text import plain
from dashboard.timefmt import format_duration
from synccore import AlbumView, OperationStatus, RowErrorRecord, SyncStatus, SyncSummary

from .support.paths import ROOT

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def status(**changes) -> OperationStatus:
    values = dict(
        id=7,
        status=SyncStatus.RUNNING,
        stage="processing",
        message="",
        processed=15,
        total=47,
        created=10,
        updated=3,
        unchanged=2,
        removed=0,
        failed=1,
        triggered_by="alice",
        source="CSV file x.csv",
        error=None,
        cancel_requested=False,
        started_at=NOW,
        heartbeat_at=NOW,
        finished_at=None,
    )
    values.update(changes)
    return OperationStatus(**values)


@pytest.mark.parametrize(
    "stage, heading",
    [
        (None, "Starting..."),
        ("fetching", "Step 1 of 3: Reading the sheet"),
        ("processing", "Step 2 of 3: Updating the catalog"),
        ("finalizing", "Step 3 of 3: Finishing up"),
    ],
)
def test_stage_heading(stage, heading):
    assert stage_heading(status(stage=stage)) == heading


@pytest.mark.parametrize(
    "message, waiting",
    [
        ("Rate limited by Google Sheets, retrying in 4 s (attempt 2 of 7)...", True),
        (
            "Pacing requests to stay within Google's read quota (60 per minute): next read in 3 s...",
            True,
        ),
        ("Syncing album 15 of 47...", False),
        ("Fetching albums from Google Sheets... 2,000 of 6,000 rows read", False),
    ],
)
def test_retry_waits_are_recognised(message, waiting):
    assert is_wait_message(message) is waiting


def test_metrics_say_rows_read_while_fetching_and_albums_synced_after():
    assert count_metrics(status(stage="fetching", processed=2000, total=6000))[0] == (
        "Rows read",
        "2,000",
    )
    assert count_metrics(status())[0] == ("Albums synced", "15")
    cancelled_while_reading = status(
        status=SyncStatus.CANCELLED, stage="fetching", processed=2000, total=6000
    )
    assert count_metrics(cancelled_while_reading)[0] == ("Rows read", "2,000")
    # the outcome message's units: albums synced (new, changed, unchanged), rows not used
    assert [label for label, _ in count_metrics(status())] == [
        "Albums synced",
        "New",
        "Changed",
        "Unchanged",
        "Rows not used",
    ]


def test_plain_text_shows_markdown_and_html_literally():
    assert plain("<img src=x onerror=alert(1)>") == r"\<img src\=x onerror\=alert\(1\)\>"
    assert plain("**bold** :red[x] $x$") == r"\*\*bold\*\* \:red\[x\] \$x\$"


def test_last_synced_never_and_escaped_timestamp():
    assert ">Never synced<" in last_synced_html(None)
    page = last_synced_html(NOW)
    assert 'data-synced-at="2025-03-14T09:30:00Z"' in page
    assert 'title="2025-03-14 09:30:00 UTC"' in page  # the exact time, also without JavaScript


def test_formula_cells_are_neutralised_in_the_csv():
    errors = [RowErrorRecord(5, "Missing artist", ('=HYPERLINK("x")', "+1", "Fine", "-2"))]
    rows = list(csv.reader(io.StringIO(row_errors_csv(errors).decode("utf-8-sig"))))
    assert rows[0] == ["Sheet row", "Reason", "Value 1", "Value 2", "Value 3", "Value 4"]
    assert rows[1] == ["5", "Missing artist", '\'=HYPERLINK("x")', "'+1", "Fine", "'-2"]
    assert neutralise_cell("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise_cell(3) == 3


FORMULAS = [
    '=HYPERLINK("http://evil.example","Click")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "-1+1",
    "\tTab first",
    "\rReturn first",
    "＝1+1",  # full-width equals
]


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_catalog_csv_neutralises_formulas_in_every_text_column():
    items = [
        AlbumView(
            id=n,
            title=text,
            artist=text,
            genres=(text,),
            vocal_style=text,
            location=text,
            country=text,
            album_type=text,
            release="2025",
            release_year=2025,
            spotify_id=None,
            spotify_url=None,
            links={},
            worksheets=(),
            debut=False,
            reissue=False,
            removed=False,
            updated_at=NOW,
        )
        for n, text in enumerate([*FORMULAS, "Plain -1 text"])
    ]
    frame = albums_frame(items)
    rows = read_csv(frame_csv(frame))
    for column in ("Artist", "Album", "Type", "Genres", "Vocal style", "Location"):
        assert [r[column] for r in rows] == ["'" + f for f in FORMULAS] + ["Plain -1 text"]
    assert frame["Album"][0] == FORMULAS[0]  # the page's table still shows the text as stored


def test_history_csv_neutralises_text_and_keeps_numbers():
    summary = SyncSummary(
        operation_id=3,
        status=SyncStatus.FAILED,
        message="@Sync failed",
        error=None,
        triggered_by="=cmd|' /C calc'!A0",
        source="CSV",
        started_at=NOW,
        finished_at=NOW,
        duration_seconds=1.5,
        total=10,
        created=-1,  # no such count, but a number is never a formula
        updated=0,
        unchanged=0,
        removed=0,
        failed=0,
    )
    [row] = read_csv(frame_csv(history_frame([summary], UTC)))
    assert row["Triggered by"] == "'=cmd|' /C calc'!A0"
    assert row["Result"] == "'@Sync failed"
    assert (row["Sync"], row["Duration (s)"], row["New"]) == ("3", "1.5", "-1")


@pytest.mark.parametrize(
    "auth, logged_in, email, verified, allowed, expected",
    [
        (False, False, None, False, (), True),  # local use: anyone
        (True, False, None, False, ("a@x.org",), False),
        (True, True, "A@X.org", True, ("a@x.org",), True),  # case-insensitive
        (True, True, "a@x.org", False, ("a@x.org",), False),  # allowlisted, not verified
        (True, True, "b@x.org", True, ("a@x.org",), False),
        (True, True, "a@x.org", True, (), False),  # an empty allowlist allows no one
    ],
)
def test_who_may_sync(auth, logged_in, email, verified, allowed, expected):
    assert may_sync(auth, logged_in, email, allowed, email_verified=verified) is expected
    reason = read_only_reason(auth, logged_in, email, allowed, email_verified=verified)
    assert (reason is None) is expected


@pytest.mark.parametrize(
    "claim, verified",
    [
        (True, True),
        ("true", True),
        ("TRUE", True),
        (False, False),
        ("false", False),
        (None, False),
        (1, False),
        ("yes", False),
    ],
)
def test_only_a_true_email_verified_claim_counts(claim, verified):
    assert claim_is_true(claim) is verified


def test_catalog_paging_words():
    assert page_count(0, 50) == 1 and page_count(101, 50) == 3
    assert showing_caption(0, 1, 50) == "No albums match these filters."
    assert showing_caption(1, 1, 50) == "Showing 1-1 of 1 album, newest first."
    assert showing_caption(2987, 2, 50) == "Showing 51-100 of 2,987 albums, newest first."


def test_only_http_links_reach_the_table():
    def view(url, links=None):
        return AlbumView(
            id=1,
            title="T",
            artist="A",
            genres=(),
            vocal_style=None,
            location=None,
            country=None,
            album_type=None,
            release="2025",
            release_year=2025,
            spotify_id=None,
            spotify_url=url,
            links=links or {},
            worksheets=(),
            debut=False,
            reissue=False,
            removed=False,
            updated_at=NOW,
        )

    frame = albums_frame(
        [
            view("https://open.spotify.com/album/x"),
            view("javascript:alert(1)"),
            view("https://bandcamp.com/x"),
        ]
    )

    def links(column):
        return [None if pd.isna(v) else v for v in frame[column]]

    assert links("Spotify") == ["https://open.spotify.com/album/x", None, None]
    assert links("Other link") == [None, None, "https://bandcamp.com/x"]
    tracker = albums_frame(
        [
            view(None, {"bandcamp": "https://x.bandcamp.com/album/y"}),
            view(None, {"bandcamp": "javascript:alert(1)"}),
        ]
    )
    assert [None if pd.isna(v) else v for v in tracker["Bandcamp"]] == [
        "https://x.bandcamp.com/album/y",
        None,
    ]


def test_durations_read_naturally():
    assert format_duration(4.23) == "4.2 s"
    assert format_duration(192) == "3 min 12 s"
    assert format_duration(3720) == "1 h 02 min"


def test_secrets_example_is_valid_toml_and_documents_every_setting():
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    tomllib.loads(example)
    for example_line in re.findall(r"^# ([A-Za-z_]+ = .+)$", example, flags=re.M):
        tomllib.loads(example_line)  # each commented example is valid TOML once uncommented
    names = set(
        re.findall(
            r'"((?:SYNCCORE|GOOGLE)_[A-Z_]+)"', (ROOT / "synccore" / "config.py").read_text()
        )
    )
    assert names, "no setting names found in synccore/config.py"
    for name in sorted(names) + ["[gcp_service_account]", "[auth]"]:
        assert name in example, f"{name} is not documented in secrets.toml.example"


def test_streamlit_config_is_for_an_internal_deployment():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] in ("type", "none")
    assert config["client"]["disableDataExport"] is True  # tables' raw CSV export is off


def test_failure_headline_does_not_repeat_the_cause():
    failed = status(
        status=SyncStatus.FAILED,
        message="Sync failed: The CSV file x.csv does not exist.",
        error="The CSV file x.csv does not exist. Check SYNCCORE_SHEET.",
    )
    assert outcome_text(failed) == (
        "Sync failed.",
        "The CSV file x.csv does not exist. Check SYNCCORE_SHEET.",
    )
    unexpected = status(
        status=SyncStatus.FAILED,
        message="Sync failed: unexpected error",
        error="Unexpected error (KeyError). See the server log.",
    )
    assert outcome_text(unexpected) == (
        "Sync failed: unexpected error",
        "Unexpected error (KeyError). See the server log.",
    )
    assert outcome_text(status(status=SyncStatus.FAILED, message="Sync failed: x", error=None))[
        1
    ].startswith("Check the settings")
    done = status(status=SyncStatus.COMPLETED, message="Sync complete! Updated 3 albums")
    assert outcome_text(done) == ("Sync complete! Updated 3 albums", None)


def test_a_sqlite_problem_on_the_page_names_the_folder_not_a_server(tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from dashboard.context import database_problem

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    monkeypatch.setenv("SYNCCORE_DATABASE_URL", f"sqlite:///{blocker}/catalog.db")
    text = database_problem(OperationalError("SELECT 1", {}, Exception("unable to open")))
    assert f"folder {blocker} does not exist" in text
    assert "server is running" not in text
    assert text.endswith("Then reload the page.")
