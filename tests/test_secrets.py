"""Secrets stay secret on every failure path: a database password, a service account's private
key, an API key and access tokens never appear in a status, the history, row errors, the
command line's output (stdout and stderr) or a log record (tracebacks included).

The lead's tests/test_google_errors.py checks each Google fault's exact message; here the same
scanner (tests/support/secret_scan.py) runs over everything readable after the failures, in
process (logging captured at DEBUG) and through `python -m synccore`.
"""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from synccore import CatalogSync, SyncStatus
from synccore.config import Settings
from synccore.db import normalize_url
from synccore.standin import make_service_account, other_private_key

from .support.albums import album
from .support.paths import ROOT
from .support.processes import run_synccore
from .support.secret_scan import SecretScanner, log_texts, visible_texts
from .support.sheets import API_KEY, SHEET_KEY, serve_sheet, sheet_api, version_rows, write_csv

DB_PASSWORD = "pw-Zq8vT3kLm9xR"


def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = run_synccore(ROOT, *args, env=env)
    return result.returncode, result.stdout + result.stderr


def cli_outputs(env: dict[str, str]) -> list[str]:
    outputs = []
    for args in (
        ["sync"],
        ["sync", "--json"],
        ["status"],
        ["status", "--json"],
        ["history"],
        ["history", "--json"],
        ["albums", "--json"],
        ["cancel"],
    ):
        _, output = run_cli(*args, env=env)
        outputs.append(output)
    return outputs


# -- the scanner ------------------------------------------------------------------------------


def test_scanner_finds_whole_secrets_pem_lines_and_json_escaped_keys():
    with sheet_api() as server:
        info = make_service_account(server)
    scanner = SecretScanner().add("password", DB_PASSWORD).add_service_account(info)
    pem_line = info["private_key"].splitlines()[5]
    assert scanner.leaks(f"postgresql://u:{DB_PASSWORD}@h/db") == ["password"]
    assert scanner.leaks(f"...{pem_line}...") == ["service account private key"]
    assert scanner.leaks(json.dumps({"key": info["private_key"]})) == [
        "service account private key"
    ]
    assert scanner.leaks("private_key_id fake-key-0") == ["service account private key id"]
    assert scanner.leaks("Sync failed: the sheet is not shared with sync@test.iam") == []
    with pytest.raises(AssertionError, match="password visible in output"):
        scanner.assert_clean(["ok", DB_PASSWORD], "output")


# -- database passwords ---------------------------------------------------------------------


@pytest.fixture
def password_postgres_url(postgres_url):
    """The test's schema reached through a URL carrying a password (the local server trusts
    127.0.0.1, so the password is accepted whatever it is)."""
    url = sa.engine.make_url(normalize_url(postgres_url)).set(password=DB_PASSWORD)
    return url.render_as_string(hide_password=False)


@pytest.mark.postgres
def test_database_password_is_in_no_status_history_cli_output_or_log(
    password_postgres_url, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    assert DB_PASSWORD in password_postgres_url
    sheet = write_csv(tmp_path / "sheet.csv", version_rows(10, 0))
    sync = CatalogSync(Settings(database_url=password_postgres_url, sheet=str(sheet)))
    assert sync.run_sync("tester").status is SyncStatus.COMPLETED
    write_csv(tmp_path / "sheet.csv", version_rows(2, 1) + [album(99, artist="")])
    assert sync.run_sync("tester").status is SyncStatus.FAILED  # the removal guard
    write_csv(tmp_path / "sheet.csv", [["no", "header", "here"]], ["a", "b", "c"])
    assert sync.run_sync("tester").status is SyncStatus.FAILED  # no header
    sheet.unlink()
    assert sync.run_sync("tester").status is SyncStatus.FAILED  # no file

    env = {"SYNCCORE_DATABASE_URL": password_postgres_url, "SYNCCORE_SHEET": str(sheet)}
    outputs = cli_outputs(env)
    assert any("does not exist" in o for o in outputs)
    scanner = SecretScanner().add("database password", DB_PASSWORD)
    scanner.assert_clean(visible_texts(sync), "what a sync leaves readable")
    scanner.assert_clean(outputs, "command line output")
    scanner.assert_clean(log_texts(caplog.records), "log records")
    sync.close()


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://catalog:{DB_PASSWORD}@127.0.0.1:1/catalog",
        f"postgresql+psycopg://catalog:{DB_PASSWORD}@127.0.0.1:1/catalog?connect_timeout=3",
    ],
)
def test_unreachable_database_fails_with_a_clear_message_and_no_password(url, caplog):
    caplog.set_level(logging.DEBUG)
    scanner = SecretScanner().add("database password", DB_PASSWORD)
    for args in (["sync"], ["status", "--json"], ["history"]):
        code, output = run_cli(*args, env={"SYNCCORE_DATABASE_URL": url})
        assert code == 1, output
        assert "Traceback" not in output, output
        assert "database did not answer" in output and "SYNCCORE_DATABASE_URL" in output
        assert "catalog:***@127.0.0.1:1/catalog" in output  # shown, with the password hidden
        scanner.assert_clean([output], f"`synccore {' '.join(args)}` output")
    with pytest.raises(Exception) as caught:
        CatalogSync(Settings(database_url=url))
    scanner.assert_clean([str(caught.value), repr(caught.value)], "the exception")
    scanner.assert_clean(log_texts(caplog.records), "log records")


# -- Google credentials -------------------------------------------------------------------------


@pytest.fixture
def google_api():
    with sheet_api() as server:
        yield server


def google_failures(server, sqlite_url: str) -> tuple[list[dict], dict]:
    """Settings for syncs that fail in every way Google can refuse, and the account's key."""
    info = make_service_account(server)
    broken = dict(info, private_key=other_private_key(1), private_key_id="fake-key-1")
    base = dict(
        database_url=sqlite_url,
        sheet=SHEET_KEY,
        sheets_api_url=server.url,
        read_quota_per_minute=100_000,
        max_retries=1,
        retry_base_seconds=0.01,
        request_timeout=5.0,
    )
    return [
        dict(base, credentials_info=info),  # not shared with the account: 403
        dict(base, credentials_info=broken),  # a key Google does not know: token refused
        dict(base, credentials_info=info, sheet="missing0sheet0key000000000"),  # 404
        dict(base, credentials_info=info, fault=503),  # persistent 5xx
        dict(base, credentials_info=info, fault="malformed"),
        dict(base, api_key="AIzaSy-wrong-key-000000000000000000"),  # unknown key: 401
        dict(base, api_key=API_KEY, private=True),  # key valid, sheet not public: 403
    ], info


def test_google_keys_and_tokens_are_in_no_status_history_or_log(google_api, sqlite_url, caplog):
    caplog.set_level(logging.DEBUG)
    serve_sheet(google_api, version_rows(5, 0))
    cases, info = google_failures(google_api, sqlite_url)
    for case in cases:
        fault, private = case.pop("fault", None), case.pop("private", False)
        google_api.clear_faults()
        if fault:
            google_api.inject(fault, times=50)
        google_api.shared_with = None if fault else set()  # shared with no service account
        book = google_api._spreadsheets[SHEET_KEY]
        book.public = not private
        sync = CatalogSync(Settings(**case))
        status = sync.run_sync("tester")
        assert status.status is SyncStatus.FAILED, case
        sync.close()
    scanner = (
        SecretScanner()
        .add_service_account(info)
        .add("API key", API_KEY)
        .add("wrong API key", "AIzaSy-wrong-key-000000000000000000")
        .add("other private key", other_private_key(1))
    )
    for token in list(google_api._tokens):
        scanner.add("access token", token)
    sync = CatalogSync(Settings(database_url=sqlite_url))
    texts = visible_texts(sync)
    assert len(sync.history()) == len(cases)
    scanner.assert_clean(texts, "what a sync leaves readable")
    assert any(r.name.startswith("urllib3") for r in caplog.records)  # HTTP was logged too
    scanner.assert_clean(log_texts(caplog.records), "log records")


@pytest.mark.slow  # real processes
def test_google_keys_are_in_no_command_line_output(google_api, tmp_path):
    serve_sheet(google_api, version_rows(5, 0))
    google_api.shared_with = set()  # readable by nobody's service account: 403
    info = make_service_account(google_api)
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(info))
    database = f"sqlite:///{tmp_path / 'catalog.db'}"
    base = {
        "SYNCCORE_DATABASE_URL": database,
        "SYNCCORE_SHEET": SHEET_KEY,
        "SYNCCORE_SHEETS_API_URL": google_api.url,
        "SYNCCORE_MAX_RETRIES": "1",
        "SYNCCORE_RETRY_BASE_SECONDS": "0.01",
        "SYNCCORE_READ_QUOTA_PER_MINUTE": "100000",
    }
    outputs = cli_outputs({**base, "GOOGLE_APPLICATION_CREDENTIALS": str(key_file)})
    outputs += cli_outputs({**base, "GOOGLE_APPLICATION_CREDENTIALS": json.dumps(info)})
    outputs += cli_outputs({**base, "SYNCCORE_GOOGLE_API_KEY": "AIzaSy-wrong-key-000000000000"})
    assert any(info["client_email"] in o for o in outputs)  # the 403 names whom to share with
    scanner = (
        SecretScanner().add_service_account(info).add("API key", "AIzaSy-wrong-key-000000000000")
    )
    for token in list(google_api._tokens):
        scanner.add("access token", token)
    scanner.assert_clean(outputs, "command line output")
