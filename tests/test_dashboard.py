"""The Sync page's logic through Streamlit's AppTest, on a real SQLite file and CSV sheets.

A second `CatalogSync` on the same database plays "another tab, user or process": it claims,
progresses and finishes operations through synccore's real API, which is what the page reads.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import event

from dashboard.context import _catalog_sync, local_user_name, settings_fingerprint
from synccore import CatalogSync, Progress, SyncStage, SyncStatus, load_settings, operations
from synccore.sync import execute_operation

from .support.albums import album, write_sheet_csv
from .support.dashboard import (
    autorefresh_rendered,
    button,
    everything_rendered,
    make_app,
    page_text,
)
from .support.waiting import wait_until_idle

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret-0123456789",
    "client_id": "catalog-sync-test",
    "client_secret": "test-client-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def claim(sync: CatalogSync, who: str = "someone else") -> int:
    return operations.claim(sync.db, sync.settings, who)


def test_first_visit_says_never_synced_and_offers_sync_now(secrets):
    at = make_app(secrets).run()
    assert not at.exception
    text = page_text(at)
    assert "No sync has run yet" in text
    sync_now = button(at, "sync-now")
    assert sync_now.label == "Sync Now" and not sync_now.disabled
    assert button(at, "cancel-sync") is None
    assert "Never synced" in at.get("iframe")[0].proto.srcdoc


def test_idle_page_renders_no_autorefresh(secrets, other):
    at = make_app(secrets).run()
    assert not autorefresh_rendered(at)
    other.run_sync("tester")
    at.run()
    assert not autorefresh_rendered(at)


def test_button_disabled_and_status_shown_while_another_sync_runs(secrets, other):
    op_id = claim(other)
    at = make_app(secrets).run()
    sync_now = button(at, "sync-now")
    assert sync_now.label == "Syncing..." and sync_now.disabled
    assert not button(at, "cancel-sync").disabled
    assert autorefresh_rendered(at)
    assert "Starting sync..." in page_text(at)

    operations.write_progress(
        other.db, op_id, Progress(SyncStage.FETCHING, "Fetching albums from Google Sheets...")
    )
    at.run()
    assert "Step 1 of 3: Reading the sheet" in page_text(at)
    assert "Fetching albums from Google Sheets..." in page_text(at)

    operations.write_progress(
        other.db,
        op_id,
        Progress(
            SyncStage.PROCESSING,
            "Syncing album 15 of 47...",
            processed=15,
            total=47,
            created=10,
            updated=3,
            unchanged=2,
            failed=1,
        ),
    )
    at.run()
    text = page_text(at)
    assert "Step 2 of 3: Updating the catalog" in text
    assert "Syncing album 15 of 47..." in text
    for metric in (
        "Albums synced: 15",
        "New: 10",
        "Changed: 3",
        "Unchanged: 2",
        "Rows not used: 1",
    ):
        assert metric in text
    assert at.get("progress")[0].proto.value == 31  # 15 of 47
    assert "started by someone else" in text

    operations.write_progress(
        other.db,
        op_id,
        Progress(SyncStage.FINALIZING, "Finalizing synchronization...", processed=47, total=47),
    )
    at.run()
    assert "Finalizing synchronization..." in page_text(at)
    assert button(at, "sync-now").disabled


def test_retry_wait_shows_as_a_warning(secrets, other):
    op_id = claim(other)
    operations.write_progress(
        other.db,
        op_id,
        Progress(
            SyncStage.FETCHING,
            "Rate limited by Google Sheets, retrying in 4 s (attempt 2 of 7)...",
            processed=2000,
            total=6000,
        ),
    )
    at = make_app(secrets).run()
    warnings = [w.value for w in at.warning]
    assert any(
        "Rate limited by Google Sheets, retrying in 4 s" in w.replace("\\", "") for w in warnings
    )
    assert "Rows read: 2,000" in page_text(at)
    assert "2,000 of 6,000" in page_text(at)  # the total, in the progress bar's text


def test_sync_now_runs_a_sync_to_success(secrets, other, tmp_path):
    # The sheet is a named pipe: the sync blocks opening it until the test writes the rows,
    # so the page is certainly rendered while the sync runs, on any machine.
    held = tmp_path / "held.csv"
    os.mkfifo(held)
    secrets["SYNCCORE_SHEET"] = str(held)
    at = make_app(secrets).run()
    button(at, "sync-now").click().run()
    try:
        started = other.current_status()
        assert started is not None and started.is_active
        assert started.triggered_by == local_user_name()
        assert button(at, "sync-now").label == "Syncing..."
        assert autorefresh_rendered(at)
    finally:
        write_sheet_csv(held, [album(n) for n in range(12)])  # lets the sync read its sheet
    wait_until_idle(other)
    at.run()
    text = page_text(at)
    assert "Sync complete! 12 albums synced (12 new, 0 changed, 0 unchanged)." in text
    sync_now = button(at, "sync-now")
    assert sync_now.label == "Sync Now" and not sync_now.disabled
    assert not autorefresh_rendered(at)
    assert "Never synced" not in at.get("iframe")[0].proto.srcdoc
    assert 'data-synced-at="20' in at.get("iframe")[0].proto.srcdoc


def test_second_press_while_running_says_who_is_syncing(secrets, other):
    at = make_app(secrets).run()  # rendered while idle: the button is still enabled here
    claim(other, "carol@example.com")
    button(at, "sync-now").click().run()
    text = page_text(at)
    assert "Sync already in progress (started by carol@example.com" in text
    assert button(at, "sync-now").disabled
    assert other.current_status().triggered_by == "carol@example.com"


def test_warnings_list_the_failed_rows_with_a_csv(secrets, sheet, other):
    rows = [album(n) for n in range(10)]
    rows.insert(3, album(90, artist=""))  # sheet row 5: no artist
    rows.insert(7, album(91, album=""))  # sheet row 9: no album title
    write_sheet_csv(sheet, rows)
    other.run_sync("tester")
    at = make_app(secrets).run()
    text = page_text(at)
    assert (
        "Sync completed with warnings: 10 albums synced (10 new, 0 changed, 0 unchanged); "
        "2 rows could not be used."
    ) in text
    assert [e.label for e in at.expander] == ["Failed rows (2)"]
    table = at.dataframe[0].value
    assert list(table["Sheet row"]) == [5, 9]
    assert all(table["Reason"].str.len() > 0)
    assert "Album 90" in table["Raw values"][0]
    download = at.get("download_button")[0]
    assert download.proto.label == "Download failed rows (CSV)"
    assert not button(at, "sync-now").disabled


def test_failure_shows_the_cause_and_what_to_do(secrets, tmp_path, other):
    secrets["SYNCCORE_SHEET"] = str(tmp_path / "missing.csv")
    other = CatalogSync(load_settings(secrets, environ={}))
    at = make_app(secrets).run()
    button(at, "sync-now").click().run()
    status = wait_until_idle(other)
    assert status.status is SyncStatus.FAILED
    at.run()
    errors = "\n".join(e.value.replace("\\", "") for e in at.error)
    assert "Sync failed" in errors
    assert status.error.replace("\\", "") in errors  # the engine's cause and advice, in full
    assert "missing.csv" in errors
    assert not button(at, "sync-now").disabled
    other.close()


def test_cancel_stops_the_sync_and_says_who_cancelled(secrets, other):
    op_id = claim(other)
    at = make_app(secrets).run()
    button(at, "cancel-sync").click().run()
    assert "Cancel requested" in page_text(at)
    assert button(at, "cancel-sync").disabled
    execute_operation(other.db, other.settings, op_id)  # the engine meets the request
    at.run()
    status = other.current_status()
    assert status.status is SyncStatus.CANCELLED
    assert f"Sync cancelled by {local_user_name()}" in page_text(at)
    assert not button(at, "sync-now").disabled


def test_interrupted_sync_explains_what_happened(secrets, other):
    op_id = claim(other)
    operations.finish(
        other.db,
        op_id,
        SyncStatus.INTERRUPTED,
        "Sync interrupted: the server is shutting down.",
        error="The process running the sync was stopped. Run the sync again.",
    )
    at = make_app(secrets).run()
    warnings = "\n".join(w.value.replace("\\", "") for w in at.warning)
    assert "Sync interrupted" in warnings and "Run the sync again" in warnings


def test_demo_note_only_on_the_demo_sheet(secrets):
    at = make_app(secrets).run()
    assert "This is the demo" not in page_text(at)
    demo = {"SYNCCORE_DATABASE_URL": secrets["SYNCCORE_DATABASE_URL"]}
    at = make_app(demo).run()
    text = page_text(at)
    assert "This is the demo" in text
    assert "SYNCCORE_SHEET" in text and "secrets.toml" in text


def test_without_login_configured_anyone_may_sync(secrets):
    at = make_app(secrets, user={}).run()
    assert not button(at, "sync-now").disabled
    assert button(at, "login") is None


def test_signed_out_viewer_reads_status_only(secrets, other):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": "alice@example.com"}
    claim(other)
    at = make_app(secrets, user={"is_logged_in": False}).run()
    assert button(at, "sync-now").disabled
    assert button(at, "cancel-sync").disabled
    assert button(at, "login") is not None
    assert "Sign in to start or cancel a sync" in page_text(at)
    assert "Starting sync..." in page_text(at)  # the status is still shown


def test_signed_in_user_not_on_the_allowlist_is_read_only(secrets):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": "alice@example.com"}
    user = {"is_logged_in": True, "email": "eve@example.com", "email_verified": True}
    at = make_app(secrets, user=user).run()
    assert button(at, "sync-now").disabled
    assert "eve@example.com, which is not in SYNCCORE_ALLOWED_USERS" in page_text(at)


ALICE = {"is_logged_in": True, "email": "Alice@Example.com", "email_verified": True}
NOT_VERIFIED = "your email address is not verified with the sign-in provider"


@pytest.mark.parametrize(
    "allowed", ["bob@example.com, alice@example.com", ["bob@example.com", "alice@example.com"]]
)  # TOML list
def test_allowlisted_user_syncs_and_is_recorded(secrets, other, allowed):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": allowed}
    at = make_app(secrets, user=ALICE).run()
    assert not button(at, "sync-now").disabled
    button(at, "sync-now").click().run()
    status = wait_until_idle(other)
    assert status.triggered_by == "Alice@Example.com"
    assert status.status is SyncStatus.COMPLETED


@pytest.mark.parametrize("verified", [False, "false", None])  # None: the claim is missing
def test_allowlisted_but_unverified_email_may_not_sync(secrets, other, verified):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": "alice@example.com"}
    user = {**ALICE, "email_verified": verified}
    if verified is None:
        del user["email_verified"]
    at = make_app(secrets, user=user).run()
    assert button(at, "sync-now").disabled
    assert NOT_VERIFIED in page_text(at)


def test_unverified_email_may_not_cancel(secrets, other):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": "alice@example.com"}
    claim(other)
    at = make_app(secrets, user={**ALICE, "email_verified": False}).run()
    assert button(at, "cancel-sync").disabled
    assert NOT_VERIFIED in page_text(at)


def test_verified_email_given_as_text_may_sync(secrets, other):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": "alice@example.com"}
    at = make_app(secrets, user={**ALICE, "email_verified": "true"}).run()
    button(at, "sync-now").click().run()
    assert wait_until_idle(other).triggered_by == "Alice@Example.com"


def test_removal_from_the_allowlist_after_the_page_was_drawn_refuses_the_click(secrets, other):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": "alice@example.com"}
    at = make_app(secrets, user=ALICE).run()
    assert not button(at, "sync-now").disabled  # drawn while Alice was allowed
    at.secrets["SYNCCORE_ALLOWED_USERS"] = "bob@example.com"
    button(at, "sync-now").click().run()
    assert other.current_status() is None
    assert "Alice@Example.com, which is not in SYNCCORE_ALLOWED_USERS" in page_text(at)


def test_cancel_is_decided_at_the_click_too(secrets, other):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": "alice@example.com"}
    claim(other)
    at = make_app(secrets, user=ALICE).run()
    assert not button(at, "cancel-sync").disabled
    at.user = {**ALICE, "email_verified": False}  # the session's sign-in changed since
    button(at, "cancel-sync").click().run()
    assert not other.current_status().cancel_requested
    assert NOT_VERIFIED in page_text(at)


def test_a_sign_in_no_longer_verified_at_the_click_may_not_sync(secrets, other):
    secrets = {**secrets, "auth": AUTH, "SYNCCORE_ALLOWED_USERS": "alice@example.com"}
    at = make_app(secrets, user=ALICE).run()
    assert not button(at, "sync-now").disabled
    at.user = {**ALICE, "email_verified": False}
    button(at, "sync-now").click().run()
    assert other.current_status() is None
    assert NOT_VERIFIED in page_text(at)


def test_unreachable_database_is_a_message_without_the_password(tmp_path):
    secrets = {"SYNCCORE_DATABASE_URL": "postgresql://catalog:Hunter2-s3cret@127.0.0.1:9/catalog"}
    at = make_app(secrets).run()
    assert not at.exception
    assert "The catalog database cannot be opened" in page_text(at)
    assert "SYNCCORE_DATABASE_URL" in page_text(at)
    rendered = everything_rendered(at)
    assert "SYNCCORE_DATABASE_URL" in rendered  # the walk does see the message
    assert "Hunter2-s3cret" not in rendered


def test_malformed_credentials_are_a_message_without_their_text(secrets):
    secrets = {**secrets, "GOOGLE_APPLICATION_CREDENTIALS": '{"private_key": "PRIVATE-KEY-TEXT"'}
    at = make_app(secrets).run()
    assert not at.exception
    assert "not configured correctly" in page_text(at)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in page_text(at)
    assert "PRIVATE-KEY-TEXT" not in everything_rendered(at)


def test_bad_number_setting_is_a_message(secrets):
    at = make_app({**secrets, "SYNCCORE_REMOVAL_GUARD": "lots"}).run()
    assert not at.exception
    assert "SYNCCORE_REMOVAL_GUARD must be a number" in page_text(at)


def test_refresh_rerun_reads_only_the_status_and_never_the_catalog(secrets, other):
    other.run_sync("tester")  # a filled catalog and a finished sync
    claim(other)
    at = make_app(secrets).run()
    settings = load_settings(secrets)  # what the page builds; the same cached engine
    app_sync = _catalog_sync(settings_fingerprint(settings), settings)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()).lower())

    event.listen(app_sync.db.read_engine, "before_cursor_execute", record)
    try:
        at.run()  # what each 2 s autorefresh does
    finally:
        event.remove(app_sync.db.read_engine, "before_cursor_execute", record)
    assert autorefresh_rendered(at)
    queries = [q for q in statements if q.startswith("select")]
    assert queries, "the rerun read nothing: the status was not read fresh"
    assert all("sync_operations" in q for q in queries), queries
    assert not any(
        table in q
        for q in queries
        for table in ("albums", "artists", "genres", "sync_results", "row_errors")
    )
    assert _catalog_sync(settings_fingerprint(settings), settings) is app_sync  # once per process


def test_database_folder_that_cannot_exist_is_a_message(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    at = make_app({"SYNCCORE_DATABASE_URL": f"sqlite:///{blocker / 'catalog.db'}"}).run()
    assert not at.exception
    assert "Catalog Sync is not configured correctly" in page_text(at)
    assert f"The SQLite database's folder {blocker} cannot be created" in page_text(at)
    assert "SYNCCORE_DATABASE_URL" in page_text(at)


def test_cancel_while_finalizing_is_refused_and_the_button_says_why(secrets, other):
    op_id = claim(other)
    operations.write_progress(other.db, op_id, Progress(SyncStage.PROCESSING, "Syncing..."))
    at = make_app(secrets).run()
    assert not button(at, "cancel-sync").disabled  # drawn while the sync could still stop
    operations.write_progress(other.db, op_id, Progress(SyncStage.FINALIZING, "Finalizing..."))
    button(at, "cancel-sync").click().run()
    assert not other.current_status().cancel_requested
    assert "Not cancelled: The sync is finalizing" in page_text(at)
    cancel = button(at, "cancel-sync")
    assert cancel.disabled and "cannot be stopped now" in cancel.help
