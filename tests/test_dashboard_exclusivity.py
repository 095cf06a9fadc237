"""Dashboard processes: two on one database pressing Sync Now at once start one sync, and a
normal stop (SIGTERM) of a dashboard mid-sync marks its sync interrupted at once.

Two real `streamlit run app.py` servers on different ports share a SQLite catalog; Chromium
(Debian's, driven by Playwright) opens both pages and presses Sync Now in each. The sheet is
served by the fake Sheets API with 1 s latency, so the first sync is still running when the
second press lands. Exactly one sync runs; the other page says a sync is already in progress.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import func, select

from synccore import CatalogSync, SyncStatus
from synccore.models import SyncOperation

from .support.browser import answers, free_port, launch_chromium, require_chromium, start_dashboard
from .support.sheets import (
    active_operations,
    api_env,
    api_settings,
    serve_sheet,
    sheet_api,
    version_rows,
)
from .support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _chromium() -> None:
    require_chromium()


def test_two_dashboards_pressing_sync_at_once_start_one_sync(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    database_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with sheet_api(latency=1.0) as server:
        serve_sheet(server, version_rows(30, 0))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCCORE_", "GOOGLE_"))}
        env.update(api_env(server), SYNCCORE_DATABASE_URL=database_url)
        ports = [free_port(), free_port()]
        servers = [start_dashboard(port, env) for port in ports]
        try:
            for port in ports:
                wait_for(lambda port=port: answers(port), 60, f"streamlit on port {port}", 0.2)
            with sync_playwright() as p:
                browser = launch_chromium(p)
                pages = [browser.new_page() for _ in ports]
                buttons = []
                for page, port in zip(pages, ports, strict=True):
                    page.goto(f"http://127.0.0.1:{port}/")
                    button = page.get_by_role("button", name="Sync Now")
                    expect(button).to_be_enabled(timeout=60_000)
                    buttons.append(button)
                for button in buttons:  # both within milliseconds; the sync lasts seconds
                    button.click(no_wait_after=True)
                told = wait_for(
                    lambda: [
                        i
                        for i, page in enumerate(pages)
                        if page.get_by_text("Sync already in progress").count()
                    ],
                    30,
                    "a page to say a sync is already in progress",
                    0.2,
                )
                assert len(told) == 1  # the other page is the one whose sync runs
                sync = CatalogSync(api_settings(server.url, database_url))
                status = wait_for(
                    lambda: (s := sync.current_status()) and not s.is_active and s,
                    60,
                    "the sync to end",
                )
                assert status.status is SyncStatus.COMPLETED, status.error
                with sync.db.session() as s:
                    assert s.scalar(select(func.count()).select_from(SyncOperation)) == 1
                browser.close()
                sync.close()
        finally:
            for proc in servers:
                proc.terminate()
            for proc in servers:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@pytest.mark.parametrize("moment", ["processing", "stalled google request"])
def test_sigterm_to_a_dashboard_mid_sync_marks_it_interrupted_at_once(tmp_path, moment):
    from playwright.sync_api import expect, sync_playwright

    database_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with sheet_api() as server:
        serve_sheet(server, version_rows(1500, 0))
        if moment != "processing":  # the request would wait out a 600 s timeout
            server.inject("slow", times=1, path_contains="/v4/spreadsheets", delay=600)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCCORE_", "GOOGLE_"))}
        env.update(
            api_env(server),
            SYNCCORE_DATABASE_URL=database_url,
            SYNCCORE_BATCH_SIZE="1",
            SYNCCORE_HEARTBEAT_TIMEOUT="3600",  # only the stop itself can end it now
            SYNCCORE_REQUEST_TIMEOUT="600",
        )
        port = free_port()
        proc = start_dashboard(port, env)
        sync = CatalogSync(api_settings(server.url, database_url, heartbeat_timeout=3600))
        try:
            wait_for(lambda: answers(port), 60, "streamlit to answer", 0.2)
            with sync_playwright() as p:
                browser = launch_chromium(p)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                button = page.get_by_role("button", name="Sync Now")
                expect(button).to_be_enabled(timeout=60_000)
                button.click()
                stage = "processing" if moment == "processing" else "fetching"
                wait_for(
                    lambda: (s := sync.current_status()) and s.stage == stage,
                    60,
                    f"the dashboard's sync to reach {stage}",
                )
                proc.terminate()  # SIGTERM, as systemd or docker stop sends it
                proc.wait(timeout=60)
                browser.close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        status = sync.current_status()
        assert status.status is SyncStatus.INTERRUPTED, (status.message, proc.stdout.read())
        assert status.message == "Sync interrupted: the server is shutting down."
        assert not active_operations(sync.db)
        sync.close()
