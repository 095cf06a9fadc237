"""`synccore` / `python -m synccore`: the same public API from a terminal or cron.

Exit codes: 0 success (warnings included), 1 failed, 3 another sync is already active.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from .catalog import AlbumFilter
from .config import load_settings
from .errors import CancelRefused, SyncAlreadyRunning, SyncError
from .operations import Progress, default_user
from .progress import shutdown_requested
from .service import CatalogSync, running_here, stop_running_syncs
from .status import OperationStatus

EXIT_OK, EXIT_FAILED, EXIT_BUSY = 0, 1, 3


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class TerminalProgress:
    """A one-line progress bar on stderr, redrawn in place; silent when not a terminal."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.enabled = stream.isatty()

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        fraction = p.processed / p.total if p.total else 0.0
        filled = int(self.width * min(1.0, fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r\x1b[2K[{bar}] {fraction:4.0%} {p.message[:70]}")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def _describe(status: OperationStatus) -> str:
    lines = [f"Sync #{status.id}: {status.status.value}", f"  {status.message}"]
    lines.append(
        f"  processed {status.processed:,} of {status.total:,}; created {status.created:,}, "
        f"updated {status.updated:,}, unchanged {status.unchanged:,}, removed "
        f"{status.removed:,}, failed {status.failed:,}"
    )
    lines.append(f"  started by {status.triggered_by} at {status.started_at:%Y-%m-%d %H:%M:%S} UTC")
    if status.error:
        lines.append(f"  {status.error}")
    return "\n".join(lines)


def cmd_sync(sync: CatalogSync, args) -> int:
    if sync.settings.is_demo and not args.json:
        print(
            "No sheet configured: syncing the bundled demo sheet. Set SYNCCORE_SHEET to use "
            "a real Google Sheet.",
            file=sys.stderr,
        )
    bar = TerminalProgress()
    try:
        op_id = sync.start_sync(default_user(), force=args.force, on_progress=bar)
    except SyncAlreadyRunning as exc:
        bar.done()
        print(str(exc), file=sys.stderr)
        return EXIT_BUSY
    # The sync runs in a thread so that a stop (SIGTERM, Ctrl-C) is answered at once, even
    # while the sync waits on a stalled Google request.
    while (status := sync.operation(op_id)).is_active and running_here(op_id):
        if shutdown_requested.is_set():
            stop_running_syncs()
            status = sync.operation(op_id)
            break
        shutdown_requested.wait(0.2)
    bar.done()
    if args.json:
        _print_json(status.to_json())
    else:
        print(_describe(status))
        for e in sync.row_errors(status.id, limit=20):
            print(f"  row {e.sheet_row}: {e.reason}")
    return EXIT_OK if status.status.succeeded else EXIT_FAILED


def cmd_status(sync: CatalogSync, args) -> int:
    status = sync.current_status()
    last = sync.last_synced_at()
    if args.json:
        _print_json(
            {
                "operation": status.to_json() if status else None,
                "last_synced_at": last.isoformat() if last else None,
                "source": sync.settings.describe_sheet(),
                "database": sync.settings.describe_database(),
            }
        )
    elif status is None:
        print("Never synced.")
    else:
        print(_describe(status))
        print(f"Last successful sync: {last:%Y-%m-%d %H:%M:%S} UTC" if last else "Never synced.")
    return EXIT_OK


def cmd_history(sync: CatalogSync, args) -> int:
    runs = sync.history(limit=args.limit)
    if args.json:
        _print_json([r.to_json() for r in runs])
        return EXIT_OK
    for r in runs:
        print(
            f"#{r.operation_id:<5} {r.finished_at:%Y-%m-%d %H:%M} {r.status.value:<24} "
            f"{r.duration_seconds:7.1f}s  {r.total:>8,} albums  by {r.triggered_by}"
        )
    if not runs:
        print("No syncs yet.")
    return EXIT_OK


def cmd_cancel(sync: CatalogSync, args) -> int:
    try:
        requested = sync.cancel_sync(default_user())
    except CancelRefused as exc:
        print(f"Not cancelled: {exc}")
        return EXIT_FAILED
    if requested:
        print("Cancel requested; the sync stops after its current batch.")
        return EXIT_OK
    print("No sync is running.")
    return EXIT_FAILED


def cmd_albums(sync: CatalogSync, args) -> int:
    page = sync.albums(AlbumFilter(search=args.search or ""), limit=args.limit, offset=args.offset)
    if args.json:
        _print_json({"total": page.total, "albums": [a.to_json() for a in page.items]})
        return EXIT_OK
    for a in page.items:
        print(f"{a.release:<14} {a.artist} - {a.title}  [{a.genre or '-'}]")
    print(f"({len(page.items)} of {page.total:,} albums)")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synccore", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = add("sync", "run a sync in the foreground")
    p.add_argument(
        "--force",
        action="store_true",
        help="remove albums even when the removal guard would refuse",
    )
    add("status", "the current or last sync")
    p = add("history", "past syncs")
    p.add_argument("--limit", type=int, default=20)
    add("cancel", "ask the running sync to stop")
    p = add("albums", "the catalog, newest first")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--search", help="artist or album contains this text")
    return parser


COMMANDS = {
    "sync": cmd_sync,
    "status": cmd_status,
    "history": cmd_history,
    "cancel": cmd_cancel,
    "albums": cmd_albums,
}


def _stop_on_signal(signum, _frame) -> None:
    shutdown_requested.set()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM (a normal stop) and Ctrl-C end a running sync at its next batch, marked
    # interrupted at once rather than after the heartbeat timeout.
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    try:
        settings = load_settings()
        sync = CatalogSync(settings)
    except SyncError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except SQLAlchemyError as exc:
        print(_database_problem(exc, settings), file=sys.stderr)
        return EXIT_FAILED
    try:
        return COMMANDS[args.command](sync, args)
    except SQLAlchemyError as exc:
        print(_database_problem(exc, settings), file=sys.stderr)
        return EXIT_FAILED
    finally:
        sync.close()


def _database_problem(exc: Exception, settings) -> str:
    """The failure's kind and the URL with its password hidden; never the driver's text,
    which can quote the connection string."""
    return (
        f"The catalog database did not answer ({type(exc).__name__}). Check "
        f"SYNCCORE_DATABASE_URL ({settings.describe_database()}) and that the database "
        "server is running."
    )


if __name__ == "__main__":
    sys.exit(main())
