"""`synccore` / `python -m synccore`: the same public API from a terminal or cron.

Exit codes: 0 success (warnings included), 1 failed, 2 usage, 3 another sync is already active,
141 output pipe closed early (`synccore albums | head`), as for a tool ended by SIGPIPE;
`check` has its own (see `cmd_check`).

Human output goes through `say`, which escapes control characters: sheet text reaches the
terminal as text, never as a command to it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import sys
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from . import notify
from .catalog import AlbumFilter
from .changes import INITIAL_LOAD, ChangeRecord
from .config import Settings, load_settings
from .counters import LABELS
from .db import database_failure
from .errors import CancelRefused, SyncAlreadyRunning, SyncError
from .models import SyncStatus
from .operations import Progress, default_user
from .progress import shutdown_requested
from .service import CatalogSync, follow_until_done
from .status import OperationStatus
from .worker import run_worker

EXIT_OK, EXIT_FAILED, EXIT_BUSY, EXIT_PIPE = 0, 1, 3, 141
EXIT_STUCK = 3  # `check`: a sync is stuck, no worker keeps the schedule, or it cannot look

# C0 controls, DEL and C1 controls: ESC starts the sequences that clear the screen, set the
# window title or write the clipboard (OSC 52); U+009B is a one-character CSI; CR and BS
# overwrite what was printed. Everything else (right-to-left text included) prints as is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def terminal_text(text: object) -> str:
    """`text` with each control character shown as an escape (`\\x1b`, `\\n`), so nothing from
    a sheet can act on the terminal that prints it."""
    return _CONTROL.sub(lambda m: _NAMED.get(m[0]) or f"\\x{ord(m[0]):02x}", str(text))


def say(*lines: object, file=None) -> None:
    """Print human-readable lines, each escaped with `terminal_text`."""
    print("\n".join(terminal_text(line) for line in lines), file=file or sys.stdout)


def _print_json(data: Any) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    # json escapes C0 controls but not DEL and C1 ones; inside JSON strings \u escapes are exact.
    print(re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m[0]):04x}", text))


def fit_message(message: str, room: int) -> str:
    """`message` in at most `room` characters, cut in the middle of its description so the
    count at its end ("... 1,200 of 1,421 rows") stays readable."""
    if len(message) <= room:
        return message
    head, sep, count = message.rpartition("... ")
    if sep and len(count) + 2 <= room:
        return head[: room - len(count) - 2] + "… " + count
    return message[: max(0, room - 1)] + "…"


class TerminalProgress:
    """A one-line progress bar on stderr, redrawn in place to fit the terminal's width (a
    longer line would wrap and leave a copy behind at each redraw); silent when not a
    terminal."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.enabled = stream.isatty()

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        columns = shutil.get_terminal_size((80, 24)).columns - 1  # the last column wraps
        width = max(10, min(self.width, columns // 4))
        fraction = p.processed / p.total if p.total else 0.0
        filled = int(width * min(1.0, fraction))
        bar = "#" * filled + "-" * (width - filled)
        prefix = f"[{bar}] {fraction:4.0%} "
        message = fit_message(terminal_text(p.message), columns - len(prefix))
        self.stream.write(f"\r\x1b[2K{prefix}{message}")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


SHOWN = ("created", "updated", "unchanged", "removed", "failed")  # the summary line's counters


def _describe(status: OperationStatus) -> list[str]:
    lines = [f"Sync #{status.id}: {status.status.value}", f"  {status.message}"]
    lines.append(
        f"  {status.processed:,} of {status.total:,} handled; "
        + ", ".join(f"{LABELS[name].lower()} {getattr(status, name):,}" for name in SHOWN)
    )
    lines.append(f"  started by {status.triggered_by} at {status.started_at:%Y-%m-%d %H:%M:%S} UTC")
    if status.announced:
        lines.append(f"  {status.announced:,} announced albums have no title yet (skipped)")
    for tab in status.worksheets:
        skipped = f", skipped: {tab['skipped']}" if tab.get("skipped") else ""
        lines.append(
            f"  tab {tab['name']}: {tab['rows_read']:,} rows, {tab['albums']:,} albums, "
            f"{tab['row_errors']:,} row errors{skipped}"
        )
    lines.extend(f"  warning: {w}" for w in status.warnings)
    if status.error:
        lines.append(f"  {status.error}")
    return lines


def cmd_sync(sync: CatalogSync, args) -> int:
    if sync.settings.is_demo and not args.json:
        say(
            "No sheet configured: syncing the bundled demo sheet. Set SYNCCORE_SHEET to use "
            "a real Google Sheet.",
            file=sys.stderr,
        )
    bar = TerminalProgress()
    try:
        op_id = sync.start_sync(
            default_user(), force=args.force, on_progress=bar, trigger="cli", preview=args.dry_run
        )
    except SyncAlreadyRunning as exc:
        bar.done()
        if args.json:
            _print_json(busy_json(exc))
        else:
            say(exc, file=sys.stderr)
        return EXIT_BUSY
    follow_until_done(sync, op_id)  # a stop (SIGTERM, Ctrl-C) ends it at once
    status = _own_operation(sync, op_id)
    bar.done()
    if args.dry_run:
        return _report_preview(sync, status, args.json)
    if args.json:
        _print_json(status.to_json())
    else:
        say(*_describe(status))
        for e in sync.row_errors(status.id, limit=20):
            where = f"'{e.worksheet}' " if e.worksheet else ""
            say(f"  {where}row {e.sheet_row}: {e.reason}")
    return EXIT_OK if status.status.succeeded else EXIT_FAILED


def _report_preview(sync: CatalogSync, status: OperationStatus, as_json: bool) -> int:
    """A preview's counts and lists; exit 0 when it ran (whatever the guard says), else 1."""
    ran = status.status is SyncStatus.PREVIEWED
    entries = sync.changes(status.id) if ran else []
    lists = preview_lists(entries)
    guard = status.error if ran else None
    if as_json:
        shaped = {name: [c.to_json() for c in items] for name, items in lists.items()}
        _print_json({"operation": status.to_json(), **shaped, "guard": guard})
        return EXIT_OK if ran else EXIT_FAILED
    say(*_describe(status))
    for name, items in lists.items():
        if items:
            say(f"{name.replace('_', ' ')} ({len(items):,}):")
            say(*(_change_line(c) for c in items[:PREVIEW_LINES]))
            if len(items) > PREVIEW_LINES:
                say(f"  ... and {len(items) - PREVIEW_LINES:,} more (--json lists them all)")
    return EXIT_OK if ran else EXIT_FAILED


PREVIEW_LINES = 50


def preview_lists(entries: list[ChangeRecord]) -> dict[str, list[ChangeRecord]]:
    """A preview's change log as would_create, would_update (restored included), would_remove."""
    lists: dict[str, list[ChangeRecord]] = {
        "would_create": [],
        "would_update": [],
        "would_remove": [],
    }
    for c in entries:
        name = {"created": "would_create", "removed": "would_remove"}.get(c.change, "would_update")
        lists[name].append(c)
    return lists


def _change_line(c: ChangeRecord) -> str:
    if c.change == INITIAL_LOAD:
        return f"  {c.summary}"
    detail = f": {c.summary}" if c.fields else ""
    return f"  {c.change:<9} {c.artist} - {c.title}{detail}"


def cmd_changes(sync: CatalogSync, args) -> int:
    """A sync's change log (default: the last sync that changed something)."""
    op_id = args.sync if args.sync is not None else sync.last_changed_sync()
    entries = sync.changes(op_id) if op_id is not None else []
    if args.json:
        _print_json([c.to_json() for c in entries])
        return EXIT_OK
    if op_id is None:
        say("No sync has changed anything yet.")
        return EXIT_OK
    if sync.operation(op_id) is None:
        say(f"No sync #{op_id} in the history (it may have been pruned: SYNCCORE_KEEP_SYNCS).")
        return EXIT_FAILED
    say(f"Sync #{op_id}: {len(entries):,} change{'s' if len(entries) != 1 else ''}")
    say(*(_change_line(c) for c in entries))
    return EXIT_OK


def busy_json(exc: SyncAlreadyRunning) -> dict[str, Any]:
    """`sync --json`'s answer when another sync holds the slot: who holds it since when."""
    return {
        "status": "busy",
        "message": str(exc),
        "operation_id": exc.operation_id,
        "triggered_by": exc.triggered_by,
        "started_at": exc.started_at.isoformat(),
    }


def _own_operation(sync: CatalogSync, op_id: int) -> OperationStatus:
    status = sync.operation(op_id)
    assert status is not None  # this process's sync: pruning keeps the most recent ones
    return status


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
        say("Never synced.")
    else:
        say(*_describe(status))
        say(f"Last successful sync: {last:%Y-%m-%d %H:%M:%S} UTC" if last else "Never synced.")
    return EXIT_OK


def cmd_history(sync: CatalogSync, args) -> int:
    runs = sync.history(limit=args.limit)
    if args.json:
        _print_json([r.to_json() for r in runs])
        return EXIT_OK
    for r in runs:
        say(
            f"#{r.operation_id:<5} {r.finished_at:%Y-%m-%d %H:%M} {r.status.value:<24} "
            f"{r.duration_seconds:7.1f}s  {r.total:>8,} albums  by {r.triggered_by} "
            f"({r.started_via})"
        )
    if not runs:
        say("No syncs yet.")
    return EXIT_OK


def cmd_check(sync: CatalogSync, args) -> int:
    """Exit 0 healthy, 1 last sync failed, 2 stale or never synced, 3 stuck or no worker."""
    health = sync.health()
    if args.json:
        _print_json(health.to_json())
    else:
        say(health.summary)
    return health.code


def cmd_worker(sync: CatalogSync, args) -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("apprise").setLevel(logging.WARNING)  # not "Notifying 1 service(s)."
    return run_worker(sync)


def cmd_cancel(sync: CatalogSync, args) -> int:
    """Exit 0 when a cancel was requested or there was nothing to cancel, 1 when refused."""
    try:
        requested = sync.cancel_sync(default_user())
    except CancelRefused as exc:
        say(f"Not cancelled: {exc}")
        return EXIT_FAILED
    status = sync.current_status() if requested else None
    if status is not None and status.is_active:
        say(f"Cancel requested for sync #{status.id}. {status.cancel_wait}")
    elif requested:
        say("Cancel requested; the sync has ended meanwhile.")
    else:
        say("No sync is running: nothing to cancel.")
    return EXIT_OK


def album_filter(args) -> AlbumFilter:
    """The `albums` command's options as a catalog filter."""
    return AlbumFilter(
        search=args.search or "",
        genres=tuple(args.genre or ()),
        countries=tuple(args.country or ()),
        album_types=tuple(args.type or ()),
        worksheets=tuple(args.worksheet or ()),
        debut_only=args.debut,
        removed_only=args.removed,
    )


def cmd_albums(sync: CatalogSync, args) -> int:
    page = sync.albums(album_filter(args), limit=args.limit, offset=args.offset)
    if args.json:
        _print_json({"total": page.total, "albums": [a.to_json() for a in page.items]})
        return EXIT_OK
    for a in page.items:
        kind = f" ({a.album_type})" if a.album_type else ""
        say(f"{a.release:<14} {a.artist} - {a.title}{kind}  [{', '.join(a.genres) or '-'}]")
    say(f"({len(page.items)} of {page.total:,} albums)")
    return EXIT_OK


def cmd_errors(sync: CatalogSync, args) -> int:
    """The rows a sync could not use: the given sync's, else the last finished one's."""
    op_id = args.sync
    if op_id is None:
        last = sync.history(limit=1)
        if not last:
            say("No sync has finished yet.", file=sys.stderr)
            return EXIT_FAILED
        op_id = last[0].operation_id
    status = sync.operation(op_id)
    if status is None:
        say(f"There is no sync #{op_id} (see `synccore history`).", file=sys.stderr)
        return EXIT_FAILED
    errors = sync.row_errors(op_id)
    if args.json:
        _print_json({"sync": op_id, "failed": status.failed, "rows": [e.to_json() for e in errors]})
        return EXIT_OK
    say(f"Sync #{op_id}: {status.failed:,} rows could not be used.")
    for e in errors:
        where = f"'{e.worksheet}' " if e.worksheet else ""
        say(f"  {where}row {e.sheet_row}: {e.reason}  [{' | '.join(e.values)}]")
    if status.failed > len(errors):
        say(f"  (the first {len(errors):,} were recorded)")
    return EXIT_OK


def count(text: str) -> int:
    """A `--limit` / `--offset` value: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


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
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="preview: read and plan everything, change nothing, list what would change",
    )
    p = add("changes", "what a sync changed, album by album")
    p.add_argument(
        "--sync", type=int, metavar="N", help="this sync (default: the last that changed something)"
    )
    add("status", "the current or last sync")
    p = add("history", "past syncs")
    p.add_argument("--limit", type=count, default=20)
    add("cancel", "ask the running sync to stop (exit 0 also when none is running)")
    p = add("errors", "the rows a sync could not use (default: the last finished sync)")
    p.add_argument("--sync", type=int, metavar="N", help="the sync's number (see history)")
    add("check", "health for monitoring: exit 0 ok, 1 failed, 2 stale, 3 stuck or no worker")
    add("worker", "run scheduled syncs and the dashboard's syncs until stopped")
    p = add("albums", "the catalog, newest first")
    p.add_argument("--limit", type=count, default=50)
    p.add_argument("--offset", type=count, default=0)
    p.add_argument("--search", help="artist or album contains this text")
    p.add_argument(
        "--genre", action="append", metavar="G", help="has this genre (repeat: any of them)"
    )
    p.add_argument("--country", action="append", metavar="C", help="from this country")
    p.add_argument("--type", action="append", metavar="T", help="album type (Length): LP, EP")
    p.add_argument("--worksheet", action="append", metavar="W", help="listed in this tab")
    p.add_argument("--debut", action="store_true", help="debut albums only")
    p.add_argument(
        "--removed", action="store_true", help="only albums marked removed (no longer in the sheet)"
    )
    return parser


COMMANDS = {
    "sync": cmd_sync,
    "status": cmd_status,
    "history": cmd_history,
    "cancel": cmd_cancel,
    "errors": cmd_errors,
    "check": cmd_check,
    "worker": cmd_worker,
    "albums": cmd_albums,
    "changes": cmd_changes,
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
    except SyncError as exc:
        say(f"Configuration problem: {exc}", file=sys.stderr)
        return _failed(args)
    try:
        return _run(args, settings)
    except BrokenPipeError:
        # The reader went away (`synccore albums | head -1`): stop quietly, and point stdout at
        # /dev/null so the interpreter's last flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE


def _run(args, settings: Settings) -> int:
    try:
        sync = CatalogSync(settings)
    except SyncError as exc:
        say(f"Configuration problem: {exc}", file=sys.stderr)
        return _failed(args)
    except (SQLAlchemyError, OSError) as exc:
        say(database_failure(exc, settings), file=sys.stderr)
        return _failed(args)
    try:
        code = COMMANDS[args.command](sync, args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except (SQLAlchemyError, OSError) as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        say(database_failure(exc, settings), file=sys.stderr)
        return _failed(args)
    finally:
        notify.wait_for_deliveries()  # here, not at exit: Apprise needs threads to send
        sync.close()


def _failed(args) -> int:
    """A check that cannot look is as bad as the worst it could find (3), not "failed" (1)."""
    return EXIT_STUCK if args.command == "check" else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
