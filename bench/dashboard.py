"""Scenarios 4 and 5: what the dashboard costs while a sync runs, and how soon a user who
pressed Sync sees something.

Browser figures need app.py and Chromium (/usr/bin/chromium); without them they are reported
as n/a with the reason, and the server-side figures stand in: the status read a rerun does
(CatalogSync.current_status), the Sync page's whole script under Streamlit's AppTest, and the
time from start_sync() to the first status row the page would render.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from .common import (
    API_KEY,
    REPO,
    Context,
    Figure,
    database,
    finish_worker,
    percentile,
    start_worker,
    sync_settings,
)
from .sheets import ALBUM_TABS

SCENARIO_4 = "4 dashboard cost"
SCENARIO_5 = "5 first feedback"
CHROMIUM = Path("/usr/bin/chromium")
APP = REPO / "app.py"


def browser_problem() -> str | None:
    if not APP.exists():
        return "no app.py yet"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed"
    return None


def _poll_during(proc, action, interval: float) -> list[float]:
    """Time `action()` every `interval` s until the worker process ends."""
    times: list[float] = []
    while proc.poll() is None:
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
        time.sleep(interval)
    return times


def _app_test_env(db: str, ctx: Context, sheet: str) -> dict[str, str]:
    return {
        "SYNCCORE_DATABASE_URL": db,
        "SYNCCORE_SHEET": sheet,
        "SYNCCORE_WORKSHEET": ALBUM_TABS,
        "SYNCCORE_SHEETS_API_URL": ctx.server.url,
        "SYNCCORE_GOOGLE_API_KEY": API_KEY,
    }


def status_rerun(ctx: Context) -> list[Figure]:
    """Server time of a status rerun while a sync of the large sheet runs in another process."""
    from synccore import CatalogSync

    albums = ctx.sizes.large
    sheet = ctx.sheet(albums)["key"]
    kind = "sqlite" if "sqlite" in ctx.options.dbs else ctx.options.dbs[0]
    figures: list[Figure] = []
    with database(kind, ctx.options.workdir, "status") as db:
        viewer = CatalogSync(sync_settings(db, ctx.server.url, sheet))
        viewer.current_status()  # migrate and warm up before the sync starts
        proc = start_worker("sync", db=db, server=ctx.server.url, sheet=sheet)
        times = _poll_during(proc, viewer.current_status, 0.05)
        sync = finish_worker(proc)
        viewer.close()
        figures.append(
            Figure(
                SCENARIO_4,
                "status read per rerun during a sync: current_status(), median",
                statistics.median(times) if times else None,
                "s",
                kind,
                note=f"p95 {percentile(times, 0.95) * 1000:.1f} ms over {len(times)} reads "
                f"during a {albums:,}-album sync of {sync['seconds']:.1f} s",
            )
        )
        figures.extend(_app_rerun(ctx, db, sheet, kind, albums))
    return figures


def watched_sync(ctx: Context) -> list[Figure]:
    """A sync with 0, 5 and 10 Chromium tabs watching (bench.browser), or n/a with why not."""
    problem = browser_problem()
    if problem is None:
        from . import browser

        try:
            return browser.watched_sync(ctx)
        except Exception as exc:  # noqa: BLE001 - report, run the rest
            problem = f"the browser run failed ({type(exc).__name__}: {str(exc)[:200]})"
    return [
        Figure(
            SCENARIO_4,
            f"sync with {tabs} Chromium tabs watching",
            None,
            "s",
            target="10 tabs <= 1.15x 0 tabs" if tabs == 10 else "",
            note=f"n/a: {problem}",
        )
        for tabs in (0, 5, 10)
    ]


def _app_rerun(ctx: Context, db: str, sheet: str, kind: str, albums: int) -> list[Figure]:
    """The Sync page's script under AppTest, rerun while a sync runs: its server time."""
    if not APP.exists():
        return [
            Figure(
                SCENARIO_4,
                "Sync page rerun (AppTest) during a sync",
                None,
                "s",
                kind,
                note="n/a: no app.py yet",
            )
        ]
    saved = {k: os.environ.get(k) for k in _app_test_env(db, ctx, sheet)}
    os.environ.update(_app_test_env(db, ctx, sheet))
    try:
        from streamlit.testing.v1 import AppTest

        app = AppTest.from_file(str(APP), default_timeout=60)
        app.run()  # the first run builds the cached CatalogSync
        if app.exception:
            raise RuntimeError(str(app.exception[0].message)[:200])
        proc = start_worker("sync", db=db, server=ctx.server.url, sheet=sheet, force=True)
        times = _poll_during(proc, app.run, 0.2)
        finish_worker(proc)
        return [
            Figure(
                SCENARIO_4,
                "Sync page rerun (AppTest run) during a sync, median",
                statistics.median(times) if times else None,
                "s",
                kind,
                note=f"p95 {percentile(times, 0.95) * 1000:.0f} ms over {len(times)} reruns",
            )
        ]
    except Exception as exc:  # noqa: BLE001 - a page in progress must not stop the bench
        return [
            Figure(
                SCENARIO_4,
                "Sync page rerun (AppTest) during a sync",
                None,
                "s",
                kind,
                note=f"n/a: the page failed under AppTest ({type(exc).__name__}: {exc})",
            )
        ]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def first_feedback(ctx: Context, repeats: int = 5) -> list[Figure]:
    """From start_sync() (what the Sync button's callback calls) to the first status the page
    would show, and to the first progress with rows read; the sync is then cancelled."""
    from synccore import CatalogSync
    from synccore.models import SyncStage

    sheet = ctx.sheet(ctx.sizes.large)["key"]
    kind = "sqlite" if "sqlite" in ctx.options.dbs else ctx.options.dbs[0]
    first_status: list[float] = []
    first_rows: list[float] = []
    with database(kind, ctx.options.workdir, "feedback") as db:
        sync = CatalogSync(
            sync_settings(db, ctx.server.url, sheet, read_quota_per_minute=1_000_000)
        )
        sync.current_status()
        for _ in range(repeats):
            started = time.perf_counter()
            op_id = sync.start_sync("bench")
            seen = None
            while True:
                status = sync.current_status()
                now = time.perf_counter()
                if status and status.id == op_id and status.message and seen is None:
                    seen = now - started
                # "N of M rows read", or "Reading tab 3 of 13: ...... N of M rows" when the
                # sheet has several tabs: the fetch stage's first count of rows read.
                if (
                    status
                    and status.id == op_id
                    and status.stage == SyncStage.FETCHING.value
                    and status.processed
                ):
                    first_status.append(now - started if seen is None else seen)
                    first_rows.append(now - started)
                    break
                if status and status.id == op_id and not status.is_active:
                    break
                time.sleep(0.005)
            sync.cancel_sync("bench")
            while (status := sync.current_status()) and status.is_active:
                time.sleep(0.02)
        sync.close()
    problem = browser_problem()
    clicked: list[Figure] = []
    if problem is None:
        from . import browser

        try:
            clicked = browser.first_feedback(ctx)
        except Exception as exc:  # noqa: BLE001 - report, run the rest
            problem = f"the browser run failed ({type(exc).__name__}: {str(exc)[:200]})"
    if problem:
        clicked = [
            Figure(
                SCENARIO_5,
                "Sync pressed -> first status shown (browser)",
                None,
                "s",
                kind,
                target="< 1 s",
                note=f"n/a: {problem}",
            )
        ]
    return [
        *clicked,
        Figure(
            SCENARIO_5,
            "start_sync() -> first status row the page shows, median",
            statistics.median(first_status) if first_status else None,
            "s",
            kind,
            target="< 1 s",
            holds=bool(first_status) and max(first_status) < 1.0,
            note=f"max {max(first_status) * 1000:.0f} ms of {len(first_status)}"
            if first_status
            else "no status seen",
        ),
        Figure(
            SCENARIO_5,
            "start_sync() -> first count of rows read, median",
            statistics.median(first_rows) if first_rows else None,
            "s",
            kind,
            note=f"max {max(first_rows) * 1000:.0f} ms" if first_rows else "",
        ),
    ]
