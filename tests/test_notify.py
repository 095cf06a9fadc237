"""Notifications: which events a sync's end causes (pure), and real processes posting to a
local webhook through Apprise's `json://` URL, each event exactly once."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from synccore import CatalogSync, SyncStatus, notify
from synccore.config import Settings
from synccore.models import SentNotification
from synccore.notify import Event, Outcome, compose, plan_events
from synccore.status import utcnow

from .support.albums import album, write_sheet_csv
from .support.notify import Webhook
from .support.paths import ROOT
from .support.processes import start_worker, stop_all, worker_env
from .support.secret_scan import SecretScanner
from .support.sheets import API_KEY, SHEET_KEY, api_settings, serve_sheet, sheet_api
from .support.waiting import wait_for

pytestmark = pytest.mark.slow  # real processes


def o(op_id: int, status: str) -> Outcome:
    return Outcome(op_id, status, f"Sync {status}.", "alice")


def kinds(events: list[Event]) -> list[str]:
    return [f"{e.kind}:{e.key}" for e in events]


def test_first_failure_after_a_success_is_one_episode():
    earlier = [o(1, "completed")]
    events = plan_events(o(2, "failed"), earlier, guard_stopped=False, after_failures=1)
    assert kinds(events) == ["failed:failed:2", "reminder:reminder:2:2"]
    later = plan_events(
        o(4, "interrupted"),
        [o(3, "failed"), o(2, "failed"), *earlier],
        guard_stopped=False,
        after_failures=1,
    )
    assert later[0].key == "failed:2" and later[0].episode == (2, 3, 4)  # same episode: same key


def test_after_n_failures_waits_for_the_nth_and_a_cancel_neither_counts_nor_ends_it():
    history = [o(3, "cancelled"), o(2, "failed"), o(1, "completed")]
    assert plan_events(o(2, "failed"), history[2:], guard_stopped=False, after_failures=3) == []
    events = plan_events(
        o(5, "failed"), [o(4, "failed"), *history], guard_stopped=False, after_failures=3
    )
    assert events[0].key == "failed:2" and events[0].episode == (2, 4, 5)


def test_recovery_and_guard():
    events = plan_events(
        o(4, "completed"),
        [o(3, "failed"), o(2, "failed"), o(1, "completed")],
        guard_stopped=False,
        after_failures=1,
    )
    assert kinds(events) == ["recovered:recovered:2"] and events[0].episode == (2, 3)
    assert (
        plan_events(o(2, "completed"), [o(1, "completed")], guard_stopped=False, after_failures=1)
        == []
    )
    guard = plan_events(o(2, "failed"), [o(1, "completed")], guard_stopped=True, after_failures=1)
    assert kinds(guard) == ["guard:guard:2"]


def test_message_is_one_line_then_the_sync_who_outcome_and_link():
    settings = Settings(dashboard_url="https://catalog.example.com")
    event = Event("failed:7", "failed", 8, (7, 8))
    text = compose(
        event,
        Outcome(8, "failed", "Sync failed: the sheet was not found.", "schedule (every 6h)"),
        settings,
    )
    assert text.splitlines() == [
        "Catalog sync failed (2 in a row)",
        "Sync #8 (failed), started by schedule (every 6h): Sync failed: the sheet was not found.",
        "Dashboard: https://catalog.example.com",
    ]


def start_dashboard_stand_in(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.notify"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_each_event_reaches_the_webhook_exactly_once_from_several_processes(database_url):
    with Webhook() as hook, sheet_api(latency=0.1) as server:
        env = worker_env(
            database_url,
            server,
            SYNCCORE_SCHEDULE="every 2s",
            SYNCCORE_NOTIFY=hook.url,
            SYNCCORE_DASHBOARD_URL="https://catalog.example.com/",
            SYNCCORE_STALE_AFTER="6s",
        )
        sync = CatalogSync(api_settings(server.url, database_url))
        processes = [start_worker(env), start_worker(env)]
        processes += [start_dashboard_stand_in(env), start_dashboard_stand_in(env)]
        try:
            # 1. no such sheet: the fake answers 404, every run fails; one "failed"
            wait_for(lambda: len(sync.history()) >= 3, 90, "three failed syncs")
            # 2. the sheet is there: the next run succeeds; one "recovered"
            serve_sheet(server, [album(n) for n in range(10)])
            wait_for(lambda: sync.last_synced_at() is not None, 60, "a good sync")
            # 3. nine of ten albums gone: the removal guard stops every run; one "guard", and
            #    once the last good sync is 6 s old, one "stale"
            serve_sheet(server, [album(0)])
            wait_for(lambda: len(hook.received) >= 4, 90, "four notifications")
            time.sleep(6)  # more guarded runs and stale checks: nothing more may arrive
        finally:
            results = stop_all(processes)
        for code, err in results:
            assert code == 0, err
    # delivered from different processes' threads: the arrival order may differ
    by_kind = {}
    for message in hook.received:
        kind = next(
            k for k in ("recovered", "stopped", "stale:", "failed") if k in message["title"]
        )
        assert kind not in by_kind, f"sent twice: {message['title']}"
        by_kind[kind] = message
    assert sorted(by_kind) == ["failed", "recovered", "stale:", "stopped"], hook.titles()
    assert by_kind["failed"]["title"] == "Catalog sync failed"
    assert by_kind["recovered"]["title"].startswith("Catalog sync recovered after ")
    assert by_kind["stopped"]["title"] == (
        "Catalog sync stopped by the removal guard: a person needs to look"
    )
    assert by_kind["stale:"]["title"].startswith("The catalog is stale: last successful sync ")
    failed = by_kind["failed"]["message"]
    assert failed.startswith("Sync #1 (failed), started by schedule (every 2s): Sync failed: ")
    assert "https://catalog.example.com/" in failed
    assert "(completed), started by schedule (every 2s)" in by_kind["recovered"]["message"]
    assert "SYNCCORE_REMOVAL_GUARD" in by_kind["stopped"]["message"]
    assert by_kind["stale:"]["message"] == "Dashboard: https://catalog.example.com/"
    scanner = SecretScanner().add("API key", API_KEY)
    scanner.assert_clean([str(m) for m in hook.received], "notifications")
    scanner.assert_clean([err for _, err in results], "process logs")
    assert SHEET_KEY  # the sheet's key is not a secret; its API key is
    sync.close()


def run_cli_sync(env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "synccore", "sync"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, time.monotonic() - began


def test_undeliverable_notifications_change_no_outcome(sqlite_url):
    with sheet_api() as server:
        silent = Webhook()  # accepts connections, never answers: bounded by the send timeout
        silent.server.RequestHandlerClass.do_POST = lambda self: time.sleep(60)  # type: ignore
        with silent:
            urls = f"json://127.0.0.1:1/refused {silent.url} not-a-url://"
            env = worker_env(sqlite_url, server, SYNCCORE_NOTIFY=urls)
            failed, _ = run_cli_sync(env)  # no sheet yet: 404, a failure to notify
            serve_sheet(server, [album(n) for n in range(3)])
            recovered, took = run_cli_sync(env)  # a recovery to notify
    assert failed.returncode == 1 and "Sync #1: failed" in failed.stdout
    assert recovered.returncode == 0 and "Sync #2: completed" in recovered.stdout
    assert took < 30
    assert "notification could not be" in failed.stderr
    assert "json://" not in failed.stderr + recovered.stderr
    sync = CatalogSync(Settings(database_url=sqlite_url))
    assert [h.status for h in sync.history()] == [SyncStatus.COMPLETED, SyncStatus.FAILED]
    sync.close()


def _notifying_sync(url: str, tmp_path, webhook: Webhook, **overrides) -> CatalogSync:
    settings = Settings(
        database_url=url,
        sheet=str(tmp_path / "sheet.csv"),
        notify_urls=(webhook.url,),
        **overrides,
    )
    return CatalogSync(settings)


def _sync_and_deliver(sync: CatalogSync) -> None:
    sync.run_sync("cron", trigger="cli")
    notify.wait_for_deliveries()


def test_after_n_failures_then_a_daily_reminder_then_recovery(sqlite_url, tmp_path):
    with Webhook() as hook:
        sync = _notifying_sync(sqlite_url, tmp_path, hook, notify_after_failures=2)
        _sync_and_deliver(sync)  # no sheet file: failure 1 of 2, nothing sent
        assert hook.titles() == []
        _sync_and_deliver(sync)
        assert hook.titles() == ["Catalog sync failed (2 in a row)"]
        _sync_and_deliver(sync)  # within a day of the last notification: quiet
        assert len(hook.titles()) == 1
        with sync.db.write() as s:
            s.execute(update(SentNotification).values(sent_at=utcnow() - timedelta(hours=25)))
        _sync_and_deliver(sync)
        assert hook.titles()[1:] == ["Catalog sync is still failing (4 in a row)"]
        _sync_and_deliver(sync)  # the reminder was just sent
        assert len(hook.titles()) == 2
        write_sheet_csv(tmp_path / "sheet.csv", [album(1)])
        _sync_and_deliver(sync)
        assert hook.titles()[2:] == ["Catalog sync recovered after 5 failed syncs"]
        _sync_and_deliver(sync)  # a success after a success: nothing
        assert len(hook.titles()) == 3
        sync.close()


def test_a_failure_below_the_threshold_then_a_success_sends_no_recovery(sqlite_url, tmp_path):
    with Webhook() as hook:
        sync = _notifying_sync(sqlite_url, tmp_path, hook, notify_after_failures=2)
        _sync_and_deliver(sync)
        write_sheet_csv(tmp_path / "sheet.csv", [album(1)])
        _sync_and_deliver(sync)
        assert hook.titles() == []  # nobody was told of the failure, so no "recovered"
        sync.close()
