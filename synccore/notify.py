"""Notifications through Apprise (`SYNCCORE_NOTIFY`): failed or interrupted, still failing
(daily), recovered, stopped by the removal guard, stale.

Each event has a key (`failed:<first failing sync of the episode>`, `stale:<last good sync>`,
...) that is INSERTed into `sent_notifications` before anything is sent: the primary key lets
exactly one process send it, however many dashboards and workers notice. Events about a sync
come from the process that ended it (a hook on `operations.finish`). Delivery runs in a daemon
thread, so it never delays or fails a sync; at exit the process waits for it a bounded time.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from . import operations
from .config import Settings
from .db import Database
from .health import Health
from .models import SentNotification, SyncResult, SyncStatus
from .status import utcnow

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 10.0  # seconds a process waits at exit for notifications still being sent
REMINDER_EVERY = timedelta(days=1)
EPISODE_SCAN = 1000  # results looked at to find where a failure episode began
FAILED = (SyncStatus.FAILED.value, SyncStatus.INTERRUPTED.value)
SUCCEEDED = (SyncStatus.COMPLETED.value, SyncStatus.COMPLETED_WITH_WARNINGS.value)

_settings_by_db: weakref.WeakKeyDictionary[Database, Settings] = weakref.WeakKeyDictionary()
_deliveries: list[threading.Thread] = []


@dataclass(frozen=True)
class Outcome:
    operation_id: int
    status: str
    message: str
    triggered_by: str


@dataclass(frozen=True)
class Event:
    key: str
    kind: str  # failed, reminder, recovered, guard, stale
    operation_id: int | None
    episode: tuple[int, ...] = ()  # the failing syncs it is about, oldest first


def failing_run(earlier: Sequence[Outcome]) -> list[Outcome]:
    """The failures right before (newest first), back to the last success; a cancel is
    neither, so it neither counts nor ends the run."""
    run = []
    for o in earlier:
        if o.status in SUCCEEDED:
            break
        if o.status in FAILED:
            run.append(o)
    return run


def plan_events(
    finished: Outcome, earlier: Sequence[Outcome], *, guard_stopped: bool, after_failures: int
) -> list[Event]:
    """Pure: the events the end of `finished` may cause (newest-first `earlier` results).

    For a failure: the guard event, or the episode's failure event once it has
    `after_failures` failures; a reminder candidate for later failures. For a success after
    failures: a recovery candidate (sent only if the episode was notified)."""
    run = failing_run(earlier)
    if finished.status in FAILED:
        episode = tuple(o.operation_id for o in reversed([finished, *run]))
        events = []
        if guard_stopped:  # once per episode too: a schedule would repeat it every run
            events.append(Event(f"guard:{episode[0]}", "guard", finished.operation_id, episode))
        elif len(episode) >= after_failures:
            events.append(Event(f"failed:{episode[0]}", "failed", finished.operation_id, episode))
            events.append(
                Event(
                    f"reminder:{episode[0]}:{finished.operation_id}",
                    "reminder",
                    finished.operation_id,
                    episode,
                )
            )
        return events
    if finished.status in SUCCEEDED and run:
        episode = tuple(o.operation_id for o in reversed(run))
        return [Event(f"recovered:{episode[0]}", "recovered", finished.operation_id, episode)]
    return []


def compose(event: Event, outcome: Outcome | None, settings: Settings, detail: str = "") -> str:
    """One line saying what happened, then the sync, who started it, its outcome, a link."""
    n = len(event.episode)
    headline = {
        "failed": f"Catalog sync failed ({n} in a row)" if n > 1 else "Catalog sync failed",
        "reminder": f"Catalog sync is still failing ({n} in a row)",
        "recovered": f"Catalog sync recovered after {n} failed" + (" syncs" if n > 1 else " sync"),
        "guard": "Catalog sync stopped by the removal guard: a person needs to look",
        "stale": f"The catalog is stale: {detail}",
    }[event.kind]
    lines = [headline]
    if outcome is not None:
        lines.append(
            f"Sync #{outcome.operation_id} ({outcome.status}), started by "
            f"{outcome.triggered_by}: {outcome.message}"
        )
    if settings.dashboard_url:
        lines.append(f"Dashboard: {settings.dashboard_url}")
    return "\n".join(lines)


# -- I/O -----------------------------------------------------------------------------------


def watch(db: Database, settings: Settings) -> None:
    """Send notifications for syncs this database's operations end (CatalogSync calls it)."""
    if settings.notify_urls:
        _settings_by_db[db] = settings


def after_finish(db: Database, op_id: int, guard_stopped: bool) -> None:
    """`operations.finish` hook: decide and send this sync's events."""
    settings = _settings_by_db.get(db)
    if settings is None:
        return
    with db.session() as s:
        rows = s.execute(
            select(
                SyncResult.operation_id,
                SyncResult.status,
                SyncResult.message,
                SyncResult.triggered_by,
            )
            .where(SyncResult.operation_id <= op_id, SyncResult.preview.is_(False))
            .order_by(SyncResult.operation_id.desc())
            .limit(EPISODE_SCAN)
        ).all()
    outcomes = [Outcome(*row) for row in rows]
    if not outcomes or outcomes[0].operation_id != op_id:
        return  # (a preview is not among them: it notifies nobody)
    finished, earlier = outcomes[0], outcomes[1:]
    events = plan_events(
        finished,
        earlier,
        guard_stopped=guard_stopped,
        after_failures=settings.notify_after_failures,
    )
    for event in events:
        notified = _notified(db, event.episode)
        if event.kind == "recovered" and not notified:
            continue
        if event.kind == "failed" and notified:  # e.g. the guard already told someone
            continue
        if event.kind == "reminder":
            last = _last_sent(db, event.episode)
            if last is None or utcnow() - last < REMINDER_EVERY:
                continue
        if _record(db, event):
            _send(settings, event.kind, compose(event, finished, settings))
            if event.kind == "failed":
                break  # the episode's first notification; no reminder with it


def notify_if_stale(sync, health: Health | None = None) -> None:
    """Once per stale episode (keyed on the last good sync), from whoever notices first."""
    settings = sync.settings
    if not settings.notify_urls:
        return
    health = health or sync.health()
    if not health.facts.is_stale:
        return
    with sync.db.session() as s:
        last_good = s.scalar(
            select(func.max(SyncResult.operation_id)).where(SyncResult.status.in_(SUCCEEDED))
        )
    event = Event(f"stale:{last_good}", "stale", None)
    if _record(sync.db, event):
        detail = health.summary.split("the catalog is stale: ", 1)[-1].split(";")[0]
        _send(settings, "stale", compose(event, None, settings, detail))


def _record(db: Database, event: Event) -> bool:
    """True for the one process whose INSERT of the event's key the database accepted."""
    try:
        with db.write() as s:
            s.add(
                SentNotification(
                    event_key=event.key[:200],
                    kind=event.kind,
                    operation_id=event.operation_id,
                    sent_at=utcnow(),
                )
            )
        return True
    except IntegrityError:
        return False


def _notified(db: Database, episode: tuple[int, ...]) -> bool:
    return _last_sent(db, episode) is not None


def _last_sent(db: Database, episode: tuple[int, ...]) -> datetime | None:
    with db.session() as s:
        return s.scalar(
            select(func.max(SentNotification.sent_at)).where(
                SentNotification.operation_id.in_(episode),
                SentNotification.kind.in_(("failed", "reminder", "guard")),
            )
        )


def _send(settings: Settings, kind: str, body: str) -> None:
    title, _, rest = body.partition("\n")
    thread = threading.Thread(
        target=_deliver,
        args=(settings.notify_urls, kind, title, rest or title),
        name=f"synccore-notify-{kind}",
        daemon=True,
    )
    _deliveries.append(thread)
    thread.start()


def _deliver(urls: tuple[str, ...], kind: str, title: str, body: str) -> None:
    """Send; a channel that fails is logged by kind only (its URL carries tokens)."""
    try:
        import apprise  # imported here: only processes that notify pay for it

        sender = apprise.Apprise()
        accepted = sum(1 for url in urls if sender.add(url))
        if accepted < len(urls):
            log.warning(
                "%d of %d SYNCCORE_NOTIFY URLs are not valid Apprise URLs; check them",
                len(urls) - accepted,
                len(urls),
            )
        if accepted and not sender.notify(title=title, body=body):
            log.warning("the %s notification could not be delivered to every channel", kind)
    except Exception as exc:  # noqa: BLE001 - a notification never fails anything
        log.warning("the %s notification could not be sent (%s)", kind, type(exc).__name__)


def wait_for_deliveries(timeout: float = DELIVERY_TIMEOUT) -> None:
    """At exit: give notifications still being sent a bounded time."""
    deadline = time.monotonic() + timeout
    for thread in list(_deliveries):
        thread.join(timeout=max(0.0, deadline - time.monotonic()))


def _registered() -> None:
    operations.FINISH_HOOKS.append(after_finish)
    atexit.register(wait_for_deliveries)


_registered()
