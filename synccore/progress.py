"""How the engine reports: throttled progress writes, a heartbeat thread, cancel and shutdown.

The engine calls `update()` as often as it likes (per batch or fetched chunk); the database
sees at most one write per `interval` seconds, plus forced writes at stage changes and
retry waits. Every write doubles as a heartbeat and returns whether a cancel was requested.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from . import operations
from .db import Database
from .errors import SyncCancelled, SyncInterrupted
from .operations import Progress

log = logging.getLogger(__name__)

# Set when the process is shutting down (SIGTERM or interpreter exit): syncs stop promptly.
shutdown_requested = threading.Event()
SHUTDOWN_MESSAGE = "Sync interrupted: the server is shutting down."
SHUTDOWN_ERROR = "The process running the sync was stopped. Run the sync again."


class Reporter:
    """Stores progress for one operation, throttled, and answers "should I stop?"."""

    def __init__(
        self,
        db: Database,
        op_id: int,
        *,
        interval: float = 0.5,
        on_progress: Callable[[Progress], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.db, self.op_id, self.interval = db, op_id, interval
        self.on_progress = on_progress
        self.clock = clock
        self.current: Progress | None = None
        self.cancel_requested = False
        self._last_write = self._last_poll = float("-inf")
        self.writes = 0

    def update(self, progress: Progress, *, force: bool = False) -> None:
        stage_changed = self.current is None or self.current.stage != progress.stage
        self.current = progress
        now = self.clock()
        if force or stage_changed or now - self._last_write >= self.interval:
            self._last_write = now
            self.writes += 1
            if operations.write_progress(self.db, self.op_id, progress):
                self.cancel_requested = True
            if self.on_progress:
                self.on_progress(progress)

    def say(self, message: str) -> None:
        """Show a message now (a retry wait, a quota pause) without changing the counts."""
        if self.current is not None:
            self.update(replace(self.current, message=message), force=True)

    def check_stop(self) -> None:
        """Raise between batches if someone cancelled or the process is stopping."""
        if shutdown_requested.is_set():
            raise SyncInterrupted(SHUTDOWN_MESSAGE)
        if self.cancel_requested:
            raise SyncCancelled("Sync cancelled.")

    def poll_stop(self, every: float = 1.0) -> None:
        """`check_stop` for a wait with nothing to show (a request in flight), called often:
        asks the database for a cancel at most once per `every` seconds, since the heartbeat
        thread asks only every few seconds."""
        now = self.clock()
        if now - self._last_poll >= every:
            self._last_poll = now
            try:
                if operations.heartbeat(self.db, self.op_id):
                    self.cancel_requested = True
            except Exception:  # noqa: BLE001 - the heartbeat thread will ask again
                log.warning("checking sync %s for a cancel failed", self.op_id, exc_info=True)
        self.check_stop()


class Heartbeat:
    """A daemon thread that heartbeats while the engine is busy (e.g. in a long HTTP wait)."""

    def __init__(self, db: Database, op_id: int, reporter: Reporter, every: float):
        self.db, self.op_id, self.reporter, self.every = db, op_id, reporter, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{op_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if operations.heartbeat(self.db, self.op_id):
                    self.reporter.cancel_requested = True
            except Exception:  # a missed beat is not fatal; the next one may succeed
                log.warning("heartbeat for sync %s failed", self.op_id, exc_info=True)
