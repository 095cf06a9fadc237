"""`synccore worker`: runs scheduled syncs and, in worker mode, the dashboard's syncs.

A foreground loop, no broker: the database already decides everything that matters. The
active slot allows one sync at a time; a due time's row (see `worker_state`) lets one worker
act on it; the dashboard's waiting sync goes to the one worker whose UPDATE takes it. A stop
(SIGTERM, Ctrl-C; the CLI sets `shutdown_requested`) ends a running sync at once, marked
interrupted, exactly as `synccore sync` does.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from . import notify, worker_state
from .errors import SyncAlreadyRunning
from .progress import shutdown_requested
from .schedule import Schedule, due_time
from .service import CatalogSync, follow_until_done, stop_running_syncs

log = logging.getLogger("synccore.worker")

POLL_SECONDS = 0.5  # how often it looks for a due time or a waiting sync (pickup within 2 s)
STALE_CHECK_SECONDS = 30.0  # how often it looks whether the catalog went stale (at most)


class Worker:
    def __init__(self, sync: CatalogSync):
        self.sync, self.db, self.settings = sync, sync.db, sync.settings
        self.schedule: Schedule | None = self.settings.schedule
        self.runs_dashboard_syncs = self.settings.run_syncs_in == "worker"
        self.id = f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.started = datetime.now(UTC)
        self.beat_every = max(0.5, min(5.0, self.settings.heartbeat_timeout / 4))
        self._next_beat = 0.0
        self._next_stale_check = 0.0
        self._last_due: datetime | None = None
        gap = self.schedule.typical_gap(self.started) if self.schedule else 0.0
        self.keep = max(worker_state.KEEP_DUE_TIMES, timedelta(seconds=3 * gap))

    def run(self) -> int:
        worker_state.register_worker(
            self.db,
            self.id,
            self.schedule.stored() if self.schedule else None,
            self.runs_dashboard_syncs,
        )
        log.info(
            "worker %s started: schedule %s; %s",
            self.id,
            self.schedule.describe() if self.schedule else "none",
            "runs the dashboard's syncs"
            if self.runs_dashboard_syncs
            else "the dashboard runs its own syncs",
        )
        try:
            while not shutdown_requested.is_set():
                try:
                    self.tick()
                except SQLAlchemyError as exc:  # an outage: keep going, the next tick retries
                    log.warning("database problem (%s); retrying", type(exc).__name__)
                    shutdown_requested.wait(5)
                except Exception:  # noqa: BLE001 - a long-running worker logs a bug and goes on
                    log.exception("unexpected error in the worker loop; retrying")
                    shutdown_requested.wait(5)
                shutdown_requested.wait(POLL_SECONDS)
        finally:
            stop_running_syncs()
            try:
                worker_state.unregister_worker(self.db, self.id)
            except SQLAlchemyError:
                log.warning("could not remove this worker's row; it ages out")
            log.info("worker %s stopped", self.id)
        return 0

    def tick(self) -> None:
        self.beat()
        if self.runs_dashboard_syncs:
            op_id = worker_state.take_waiting_sync(self.db)
            if op_id is not None:
                log.info("running sync #%s, started from the dashboard", op_id)
                self.sync.run_claimed(op_id)
                self.follow(op_id)
        if self.schedule is not None:
            self.run_due()
        if self.settings.notify_urls and time.monotonic() >= self._next_stale_check:
            health = self.sync.health()
            limit = health.facts.stale_after or STALE_CHECK_SECONDS
            self._next_stale_check = time.monotonic() + min(STALE_CHECK_SECONDS, limit / 4)
            notify.notify_if_stale(self.sync, health)

    def beat(self) -> None:
        if time.monotonic() >= self._next_beat:
            self._next_beat = time.monotonic() + self.beat_every
            worker_state.beat_worker(self.db, self.id)

    def run_due(self) -> None:
        assert self.schedule is not None
        due = due_time(
            self.schedule,
            worker_state.last_started_at(self.db),
            datetime.now(UTC),
            self.started,
        )
        if due is None or due == self._last_due:
            return
        mine = worker_state.decide_due_time(self.db, due, self.id)
        self._last_due = due  # decided, by this worker or another: not asked again
        if not mine:
            return
        who = f"schedule ({self.schedule.describe()})"
        try:
            op_id = self.sync.start_sync(who, trigger="schedule")
        except SyncAlreadyRunning as exc:
            log.info("scheduled sync due at %s skipped: %s", _when(due), exc)
            worker_state.record_due_outcome(self.db, due, None, f"skipped: {exc}", self.keep)
            return
        worker_state.record_due_outcome(self.db, due, op_id, "started", self.keep)
        log.info("scheduled sync #%s started (due at %s)", op_id, _when(due))
        self.follow(op_id)

    def follow(self, op_id: int) -> None:
        status = follow_until_done(self.sync, op_id, on_tick=self.beat)
        if status is not None:
            log.info("sync #%s: %s: %s", op_id, status.status.value, status.message)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def run_worker(sync: CatalogSync) -> int:
    settings = sync.settings
    if settings.schedule is None and settings.run_syncs_in != "worker":
        log.error(
            "Nothing to do: set SYNCCORE_SCHEDULE (e.g. 'every 6h' or '0 6 * * *') and/or "
            "SYNCCORE_RUN_SYNCS_IN=worker, then start the worker again."
        )
        return 1
    return Worker(sync).run()
