"""Worker mode in a real browser: Sync Now on the dashboard, the Streamlit process restarted
mid-sync, and the sync (run by `synccore worker`) completes regardless."""

from __future__ import annotations

import os

import pytest

from synccore import CatalogSync, SyncStatus

from .support.browser import answers, free_port, launch_chromium, require_chromium, start_dashboard
from .support.processes import start_worker, stop
from .support.sheets import api_env, api_settings, serve_sheet, sheet_api, version_rows
from .support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_dashboard_restart_mid_sync_does_not_stop_a_worker_run_sync(tmp_path):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    database_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with sheet_api() as server:
        serve_sheet(server, version_rows(600, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCCORE_", "GOOGLE_"))}
        env.update(
            api_env(server),
            SYNCCORE_DATABASE_URL=database_url,
            SYNCCORE_RUN_SYNCS_IN="worker",
            SYNCCORE_BATCH_SIZE="1",  # one album per transaction: the sync lasts a while
        )
        sync = CatalogSync(api_settings(server.url, database_url))
        worker = start_worker(env)
        port = free_port()
        dashboard = start_dashboard(port, env)
        try:
            wait_for(lambda: answers(port), 60, "streamlit to answer", 0.2)
            with sync_playwright() as p:
                browser = launch_chromium(p)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                button = page.get_by_role("button", name="Sync Now")
                expect(button).to_be_enabled(timeout=60_000)
                button.click()
                wait_for(
                    lambda: (s := sync.current_status()) and s.stage == "processing",
                    60,
                    "the worker's sync to reach processing",
                )
                dashboard.terminate()  # a redeploy: SIGTERM, then a new process
                dashboard.wait(timeout=60)
                assert sync.current_status().is_active  # the dashboard's stop left it running
                dashboard = start_dashboard(port, env)
                wait_for(lambda: answers(port), 60, "the new streamlit to answer", 0.2)
                page.goto(f"http://127.0.0.1:{port}/")
                status = wait_for(
                    lambda: (s := sync.current_status()) and not s.is_active and s,
                    180,
                    "the sync to end",
                )
                expect(page.get_by_text("Sync complete!")).to_be_visible(timeout=30_000)
                browser.close()
        finally:
            if dashboard.poll() is None:
                dashboard.terminate()
                dashboard.wait(timeout=30)
            code, err = stop(worker)
    assert status.status is SyncStatus.COMPLETED, (status.message, err)
    assert status.created == 600 and len(sync.history()) == 1
    assert sync.history()[0].started_via == "Person (dashboard), run by a worker"
    assert code == 0, err
    sync.close()
