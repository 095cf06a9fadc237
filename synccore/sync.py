"""The engine: fetch the whole sheet, plan, write in atomic batches, then mark removals.

Stages, in order:
1. fetching: read every chunk from the source, parse rows as they arrive and spool the
   parsed albums to a temporary file, so memory stays flat on a 10-million-cell sheet and a
   sheet that cannot be read leaves the catalog untouched.
2. planning (still "fetching" for the user): decide which albums left the sheet and apply
   the removal guard before anything is written.
3. processing: upsert albums in batches, one transaction each; unchanged rows are skipped.
4. finalizing: mark removed albums (all in one transaction), record the result. A cancel
   is honoured up to the moment the sync enters this stage and refused from then on.

Each write also records its change log (see changes.py). A preview runs stages 1-3 reading
only, and records what the writes would have changed under its own operation.
"""

from __future__ import annotations

import gc
import heapq
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from operator import attrgetter
from typing import IO

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import DBAPIError

from . import changes, operations, retention, row_digests, unchanged
from .config import Settings
from .db import Database
from .errors import (
    HeaderNotFound,
    RemovalGuardTripped,
    SyncCancelled,
    SyncError,
    SyncInterrupted,
)
from .models import Album, AlbumWorksheet, SyncResult, SyncStage, SyncStatus, Worksheet
from .operations import Progress
from .progress import SHUTDOWN_ERROR, SHUTDOWN_MESSAGE, Heartbeat, Reporter, shutdown_requested
from .rows import (
    ANNOUNCED,
    HEADER_SCAN_ROWS,
    AlbumRow,
    ColumnMap,
    ReleaseDate,
    RowError,
    RowRules,
    drift_warnings,
    duplicate_error,
    find_header,
    parse_row,
    with_worksheets,
)
from .sources import open_source
from .sources.base import RawRow, SheetSource, Tab, read_source_tab, source_tabs
from .status import utcnow
from .upserts import (
    LookupCache,
    preview_albums,
    refresh_genre_counts,
    store_row_digests,
    write_albums,
)
from .winners import MAX_TABS, Winners

log = logging.getLogger(__name__)

# Row errors kept per sync (the first ones in sheet order; every one is counted). Each is at
# most ~2,500 characters (rows.ERROR_VALUES_TOTAL of cells and a 500-character reason), so a
# sync stores at most ~25 million characters of them, however many rows fail.
MAX_STORED_ROW_ERRORS = 10_000
REMOVAL_CHUNK = 5_000  # ids per UPDATE: drivers cap the parameters of one statement
# Test hook: a file path. The removal step then marks 50 albums per statement, appends a line
# to that file after each one and waits 0.2 s (and while a file named like it plus ".hold"
# exists), so a test can act while it is midway, for certain.
REMOVAL_HOOK_ENV = "SYNCCORE_TEST_REMOVAL_HOOK"


@dataclass
class Counts:
    """The engine's running tally: the counters (`counters.SyncCounts`) it adds to as it goes;
    the sheet gives `total`, the row error log `failed`."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    processed: int = 0

    def progress(self, stage: SyncStage, message: str, *, total: int, failed: int) -> Progress:
        return Progress(stage, message, total=total, failed=failed, **asdict(self))


class RowErrorLog:
    """Every row error is counted; only the `limit` first in sheet order are kept, so a sheet
    of a million bad rows costs bounded memory and storage. `append` and `len` are all the
    engine needs while it runs; `kept()` gives the stored ones in sheet order."""

    def __init__(self, limit: int = MAX_STORED_ROW_ERRORS):
        self.limit = limit
        self.count = 0
        self.duplicates = 0  # of `count`: rows that lost to a later row with the same key
        self._heap: list[tuple[int, int, RowError]] = []  # (-row number, arrival, error)

    def append(self, error: RowError, tab: int = 0) -> None:
        """Count `error`, from the tab at index `tab` (sheet order is tab, then row)."""
        self.count += 1
        entry = (-((tab << 32) | error.row_number), self.count, error)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, entry)
        elif self._heap and entry > self._heap[0]:  # an earlier row than the latest kept
            heapq.heapreplace(self._heap, entry)

    def __len__(self) -> int:
        return self.count

    def kept(self) -> list[RowError]:
        return [e for _, _, e in sorted(self._heap, key=lambda entry: (-entry[0], entry[1]))]


@dataclass
class TabReport:
    """One tab's figures for the operation (`worksheets` in the sync JSON)."""

    name: str
    rows_read: int = 0
    albums: int = 0
    row_errors: int = 0
    announced: int = 0
    skipped: str | None = None  # why the tab was not read, when it was not

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FetchResult:
    """What the fetch stage leaves behind: spooled albums, row errors and the winners."""

    spool: IO[bytes]
    chunks: int
    winners: Winners = field(default_factory=Winners)
    errors: RowErrorLog = field(default_factory=RowErrorLog)
    rows_read: int = 0
    tabs: list[TabReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    announced: int = 0
    guard: str | None = None  # a preview's plan: why the removal guard would stop the sync
    # Row digests the catalog holds (see row_digests), while reading; None when not loaded.
    known: dict[int, tuple[str, str]] | None = None
    digests_loaded: bool = False  # whether `known` was loaded (it is dropped after reading)
    rules: RowRules = field(default_factory=RowRules)
    columns: dict[int, ColumnMap] = field(default_factory=dict)  # by tab index

    def parse_again(self, entry: tuple) -> tuple:
        """The album tuple of a spooled row whose parse was skipped (see _parse_chunk)."""
        tab, _, _, number, digest, values, links, colors = entry
        raw = RawRow(number, values, links, colors)
        parsed = parse_row(raw, self.columns[tab], self.rules, self.tabs[tab].name)
        assert isinstance(parsed, AlbumRow), "a row with a known digest parses as its album"
        return _as_tuple(parsed, digest)

    @property
    def skipped_tabs(self) -> list[str]:
        return [t.name for t in self.tabs if t.skipped]

    def report(self) -> dict:
        """What the operation records besides its counts."""
        return {
            "announced": self.announced,
            "warnings": list(self.warnings),
            "worksheets": [t.to_json() for t in self.tabs],
        }


class _FetchListener:
    def __init__(self, reporter: Reporter, verb: str):
        self.reporter, self.verb = reporter, verb
        self.prefix: str | None = None  # "Reading tab 3 of 9: 2023 Prog-metal" when several
        # With several tabs the counts are the whole read's: rows of the tabs before this one,
        # and the selected tabs' grid rows (an upper bound), so the bar moves across tabs.
        self.before = 0
        self.total = 0

    def start_tab(self, prefix: str) -> None:
        self.prefix = prefix
        total = max(self.total, self.before)
        progress = Progress(SyncStage.FETCHING, prefix + "...", processed=self.before, total=total)
        self.reporter.update(progress, force=True)

    def fetched(self, rows_read: int, rows_expected: int | None) -> None:
        if self.prefix:
            rows_read += self.before
            expected = max(self.total, rows_read)
            message = f"{self.prefix}... {rows_read:,} of {expected:,} rows read"
        else:
            expected = max(rows_expected or 0, rows_read)
            message = f"{self.verb}... {rows_read:,} of {expected:,} rows read"
        self.reporter.update(
            Progress(SyncStage.FETCHING, message, processed=rows_read, total=expected)
        )
        self.reporter.check_stop()

    def waiting(self, message: str) -> None:
        self.reporter.say(message)
        if not gc.isenabled():
            # The collector is paused for the chunk being read (see collector_paused), and a
            # quota or retry wait can last a minute: collect now, while there is nothing to do,
            # so cycles made by the rest of the process (e.g. dashboard reruns) do not pile up.
            gc.collect()
        self.reporter.check_stop()  # a cancel or a server stop ends a retry wait too

    def check_stop(self) -> None:
        self.reporter.poll_stop()  # a cancel or a server stop ends a request in flight too


def fetch_message(source: SheetSource) -> str:
    return getattr(source, "fetch_message", "Fetching albums from Google Sheets")


def fetch_and_parse(
    source: SheetSource,
    settings: Settings,
    reporter: Reporter,
    known: dict[int, tuple[str, str]] | None = None,
) -> FetchResult:
    """Read every selected tab, parsing as chunks arrive; spool albums to disk. Rows whose
    digest is `known` (see row_digests) are spooled unparsed."""
    verb = fetch_message(source)
    reporter.update(Progress(SyncStage.FETCHING, f"{verb}..."), force=True)
    spool = tempfile.TemporaryFile(prefix="synccore-spool-")
    rules = RowRules.from_settings(settings.color_flags, settings.location_countries)
    result = FetchResult(
        spool=spool, chunks=0, known=known, digests_loaded=known is not None, rules=rules
    )
    listener = _FetchListener(reporter, verb)
    tabs = source_tabs(source, listener)[:MAX_TABS]
    listener.total = sum(tab.rows for tab in tabs)
    for index, tab in enumerate(tabs):
        if len(tabs) > 1:
            listener.start_tab(f"Reading tab {index + 1} of {len(tabs)}: {tab.title}")
        report = TabReport(tab.title)
        result.tabs.append(report)
        several = len(tabs) > 1
        _read_tab(source, tab, index, settings, listener, result, report, several)
        listener.before += report.rows_read
        reporter.check_stop()
    spool.seek(0)
    result.known = None  # a few hundred bytes an album, not needed past reading
    return result


def _read_tab(
    source: SheetSource,
    tab: Tab,
    index: int,
    settings: Settings,
    listener: _FetchListener,
    result: FetchResult,
    report: TabReport,
    several: bool,
) -> None:
    """One tab: find its header (reporting columns it lacks), then parse its rows. A tab
    without an album header is skipped when a pattern picked it, and fails the sync when it
    was named."""
    pending: list[RawRow] = []  # rows read before the header was found
    columns: ColumnMap | None = None
    chunks = iter(read_source_tab(source, tab, listener))
    while True:
        with collector_paused():  # decoding and parsing allocate ~30 containers per row
            chunk = next(chunks, None)
            if chunk is None:
                break
            result.rows_read += len(chunk)
            report.rows_read += len(chunk)
            if columns is None:
                pending.extend(chunk)
                if len(pending) < HEADER_SCAN_ROWS and chunk:
                    continue
                columns, chunk = _tab_header(pending, tab, settings, result, report, several)
                pending = []
                if columns is None:
                    getattr(chunks, "close", lambda: None)()  # a skipped tab is not read on
                    return
                result.columns[index] = columns
            _parse_chunk(chunk, columns, result, index, tab.title, report)
            del chunk
        listener.reporter.check_stop()
    if columns is None:  # the tab had fewer rows than the header scan
        columns, rest = _tab_header(pending, tab, settings, result, report, several)
        if columns is not None:
            result.columns[index] = columns
            _parse_chunk(rest, columns, result, index, tab.title, report)


def _tab_header(
    pending: list[RawRow],
    tab: Tab,
    settings: Settings,
    result: FetchResult,
    report: TabReport,
    several: bool,
) -> tuple[ColumnMap | None, list[RawRow]]:
    """(columns, rows after the header), or (None, []) for a skipped tab."""
    try:
        columns, header_index = find_header(pending[:HEADER_SCAN_ROWS], settings.header_aliases)
    except HeaderNotFound as exc:
        if tab.explicit and several:
            raise HeaderNotFound(f"In the worksheet '{tab.title}': {exc}") from None
        if tab.explicit:
            raise
        report.skipped = "no Artist and Album header in its first rows"
        result.warnings.append(
            f"Skipped the worksheet '{tab.title}': it has no Artist and Album header in its "
            f"first {HEADER_SCAN_ROWS} rows (it was picked by a pattern in "
            "SYNCCORE_WORKSHEET). Albums that came from it are kept."
        )
        return None, []
    result.warnings.extend(drift_warnings(columns, pending[header_index].values, tab.title))
    return columns, pending[header_index + 1 :]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector for one chunk or batch.

    A chunk's JSON, its rows and a batch's statement parameters are hundreds of thousands of
    short-lived, acyclic containers, freed by reference counting; the collector would traverse
    them again and again for nothing (it made a 100,000-row sync about 1.5 times slower).
    Paused per chunk rather than per sync, so cycles made elsewhere in the process are still
    collected between chunks.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_chunk(
    chunk: list[RawRow],
    columns: ColumnMap,
    result: FetchResult,
    tab: int,
    title: str,
    report: TabReport,
) -> None:
    """Parse and spool one chunk: (tab, album tuple) for a parsed album; for a row whose
    digest the catalog holds, (tab, None, key, row number, digest, values, links, colors),
    parsed later only if the write stage needs it (`FetchResult.parse_again`)."""
    albums: list[tuple] = []
    winners, errors, known, rules = result.winners, result.errors, result.known, result.rules
    context = row_digests.tab_context(title, columns, rules)
    for raw in chunk:
        digest = row_digests.row_digest(context, raw)
        if known and digest is not None and (hit := known.get(digest)) is not None:
            key, stored_hash = hit
            report.albums += 1
            winners.add(key, stored_hash, tab, raw.number)
            albums.append((tab, None, key, raw.number, digest, raw.values, raw.links, raw.colors))
            continue
        parsed = parse_row(raw, columns, rules, title)
        if parsed is None:
            continue
        if parsed is ANNOUNCED:
            result.announced += 1
            report.announced += 1
            continue
        if isinstance(parsed, RowError):
            errors.append(replace(parsed, worksheet=title), tab)
            report.row_errors += 1
            continue
        assert isinstance(parsed, AlbumRow)
        report.albums += 1
        winners.add(parsed.key, parsed.content_hash, tab, parsed.row_number)
        albums.append((tab, _as_tuple(parsed, digest)))
    if albums:
        pickle.dump(albums, result.spool, protocol=pickle.HIGHEST_PROTOCOL)
        result.chunks += 1


# The spool holds plain tuples: pickling slotted dataclasses goes through dataclasses.fields()
# for every object, which cost more than parsing the rows did.
_ALBUM_FIELDS = attrgetter(*(f.name for f in fields(AlbumRow)))
_RELEASE_FIELDS = attrgetter(*(f.name for f in fields(ReleaseDate)))
_RELEASE_AT = [f.name for f in fields(AlbumRow)].index("release")
_KEY_AT = [f.name for f in fields(AlbumRow)].index("key")
_ROW_AT = [f.name for f in fields(AlbumRow)].index("row_number")
_DIGEST_AT = [f.name for f in fields(AlbumRow)].index("row_digest")
assert _DIGEST_AT == len(fields(AlbumRow)) - 1, "_as_tuple puts the row digest last"


def _as_tuple(album: AlbumRow, digest: int | None) -> tuple:
    values = _ALBUM_FIELDS(album)
    release = _RELEASE_FIELDS(album.release)
    return (*values[:_RELEASE_AT], release, *values[_RELEASE_AT + 1 : _DIGEST_AT], digest)


def _from_tuple(values: tuple) -> AlbumRow:
    return AlbumRow(  # type: ignore[call-arg]  # mypy cannot count the unpacked tuples
        *values[:_RELEASE_AT], ReleaseDate(*values[_RELEASE_AT]), *values[_RELEASE_AT + 1 :]
    )


def read_spool(fetched: FetchResult) -> Iterator[list[tuple]]:
    """The spooled albums, a chunk at a time, as `_parse_chunk` wrote them."""
    for _ in range(fetched.chunks):
        yield pickle.load(fetched.spool)


def plan_removals(db: Database, fetched: FetchResult) -> tuple[list[int], int]:
    """Ids of catalog albums no longer in the sheet, and how many albums the catalog has.

    An album listed in a tab that was skipped this time is kept. The same pass marks each
    winner whose album is stored with the same content hash and not removed, so the write
    stage skips it without a query (the common case of a re-sync); albums listed in several
    tabs are left to the write stage, which compares their full hash.
    """
    winners = fetched.winners
    kept = _albums_in_tabs(db, fetched.skipped_tabs)
    gone: list[int] = []
    active = 0
    with db.session() as s:
        rows = s.execute(
            select(Album.id, Album.key, Album.content_hash, Album.removed_at).execution_options(
                yield_per=20_000
            )
        )
        for album_id, key, stored_hash, removed_at in rows:
            if removed_at is not None:
                continue  # a removed album back in the sheet is written, to restore it
            active += 1
            if not winners.mark_unchanged(key, stored_hash) and album_id not in kept:
                gone.append(album_id)
    return gone, active


def _albums_in_tabs(db: Database, names: list[str]) -> set[int]:
    """Ids of the albums listed in any of these tabs."""
    if not names:
        return set()
    with db.session() as s:
        return set(
            s.scalars(
                select(AlbumWorksheet.album_id)
                .join(Worksheet, Worksheet.id == AlbumWorksheet.worksheet_id)
                .where(Worksheet.name_key.in_(names))
            )
        )


def last_synced_source(db: Database) -> str | None:
    """The sheet (`Settings.describe_sheet()`) the last successful sync read, if any."""
    with db.session() as s:
        return s.scalar(
            select(SyncResult.source)
            .where(
                SyncResult.status.in_(
                    [SyncStatus.COMPLETED.value, SyncStatus.COMPLETED_WITH_WARNINGS.value]
                )
            )
            .order_by(SyncResult.operation_id.desc())
            .limit(1)
        )


def check_removal_guard(
    gone: int,
    active: int,
    albums_in_sheet: int,
    settings: Settings,
    force: bool,
    previous_source: str | None = None,
    confirmed: int | None = None,
) -> None:
    """Refuse a sync that would empty or gut the catalog, unless forced; a force confirmed
    for `confirmed` removals (from the page) still refuses to remove more than that.

    When the configured sheet differs from the one the last successful sync read, the refusal
    says so: a switched sheet, not a truncated one, is then the likely cause.
    """
    if force and confirmed is not None and gone > confirmed:
        raise RemovalGuardTripped(
            f"This sync would now remove {gone:,} albums, more than the {confirmed:,} whose "
            "removal was confirmed: the sheet changed since. Nothing was changed. Look at the "
            "new list and confirm again.",
            headline=f"it would now remove {gone:,} albums, more than the {confirmed:,} confirmed.",
        )
    if force or gone == 0:
        return
    source = settings.describe_sheet()[:500]  # as SyncOperation.source stores it
    if (
        previous_source
        and previous_source != source
        and (albums_in_sheet == 0 or gone > settings.removal_guard * active)
    ):
        headline = (
            f"The configured sheet changed since the last successful sync, from {previous_source} "
            f"to {source}, and this sync would remove {gone:,} of {active:,} albums."
        )
        raise RemovalGuardTripped(
            f"{headline} Nothing was changed. If the new sheet is meant to replace the catalog, "
            "run the sync with force (synccore sync --force); otherwise set SYNCCORE_SHEET and "
            "SYNCCORE_WORKSHEET back to the previous sheet.",
            headline=headline,
        )
    if albums_in_sheet == 0:
        raise RemovalGuardTripped(
            f"The sheet returned no albums, so this sync would remove all {active:,} albums "
            "from the catalog. Nothing was changed. Check that the sheet and worksheet "
            "settings point at the right tab; if the sheet really is empty, run the sync "
            "with force (synccore sync --force)."
        )
    if gone > settings.removal_guard * active:
        raise RemovalGuardTripped(
            f"This sync would remove {gone:,} of {active:,} albums "
            f"({gone / active:.0%}), more than the {settings.removal_guard:.0%} allowed by "
            "SYNCCORE_REMOVAL_GUARD. Nothing was changed. This usually means the sheet was "
            "truncated or the wrong worksheet is configured; if the removals are intended, "
            "run the sync with force (synccore sync --force)."
        )


def mark_removed(db: Database, ids: list[int], op_id: int) -> int:
    """Mark albums removed, all in one transaction that also records how many (so the
    operation's count is what was committed); return that count.

    Fenced like a batch: a sync retired as stale meanwhile marks nothing. A stop (SIGTERM)
    before the commit rolls it all back. Either every album is marked or none is.
    """
    hook = os.environ.get(REMOVAL_HOOK_ENV)
    chunk = 50 if hook else REMOVAL_CHUNK
    now = utcnow()
    marked = 0
    with db.write(sync_id=op_id) as s:
        for start in range(0, len(ids), chunk):
            if shutdown_requested.is_set():
                raise SyncInterrupted(SHUTDOWN_MESSAGE)
            changes.record(s, op_id, changes.removal_entries(s, ids[start : start + chunk]))
            result = s.execute(
                update(Album)
                .where(Album.id.in_(ids[start : start + chunk]), Album.removed_at.is_(None))
                .values(removed_at=now, updated_at=now, last_sync_id=op_id)
            )
            assert isinstance(result, CursorResult)
            marked += result.rowcount
            if hook:
                _removal_hook(hook, op_id, marked)
        if shutdown_requested.is_set():
            raise SyncInterrupted(SHUTDOWN_MESSAGE)
        operations.fence(s, op_id, removed=marked)
    return marked


def _removal_hook(path: str, op_id: int, marked: int) -> None:
    """See REMOVAL_HOOK_ENV."""
    with open(path, "a") as marker:
        marker.write(f"{op_id} {marked}\n")
    shutdown_requested.wait(0.2)
    while os.path.exists(f"{path}.hold") and not shutdown_requested.wait(0.05):
        pass


def sync_albums(
    db: Database,
    settings: Settings,
    op_id: int,
    source: SheetSource,
    reporter: Reporter,
    *,
    force: bool = False,
    preview: bool = False,
    confirmed: int | None = None,
) -> tuple[Counts, RowErrorLog, FetchResult]:
    """The whole sync for an already-claimed operation; raises SyncError on failure.

    A `preview` reads and plans the same way but writes only its change log (what the sync
    would do) and raises `RemovalGuardTripped` only after listing what it would remove."""
    known = row_digests.load_known(db)
    fetched = fetch_and_parse(source, settings, reporter, known)
    del known
    try:
        total = len(fetched.winners)
        gone, active = plan_removals(db, fetched)
        guard: RemovalGuardTripped | None = None
        try:
            check_removal_guard(
                len(gone),
                active,
                total,
                settings,
                force,
                previous_source=last_synced_source(db),
                confirmed=confirmed,
            )
        except RemovalGuardTripped as exc:
            if not preview:
                # what it would have removed, for the person who decides (see changes.HELD)
                _record_removals(db, gone, op_id, changes.HELD)
                raise
            guard = exc
        initial_load = not preview and active == 0 and catalog_is_empty(db)
        counts = Counts()
        errors = fetched.errors
        progress = Progress(SyncStage.PROCESSING, f"Syncing album 0 of {total:,}...", total=total)
        reporter.update(progress, force=True)
        cache = LookupCache.load(db)
        for chunk in read_spool(fetched):
            reporter.check_stop()
            with collector_paused():
                changed, digests = _changed_winners(chunk, fetched, counts, errors)
            if digests and not preview:
                store_row_digests(db, digests, op_id)
            for start in range(0, len(changed), settings.batch_size):
                reporter.check_stop()
                batch = changed[start : start + settings.batch_size]
                with collector_paused():
                    if preview:
                        created, updated, unchanged = _preview_batch(db, batch, op_id)
                    else:
                        created, updated, unchanged = write_albums(
                            db, batch, op_id, cache, initial_load=initial_load
                        )
                counts.created += created
                counts.updated += updated
                counts.unchanged += unchanged
                counts.processed += len(batch)
                _report_batch(reporter, counts, total, len(errors))
            _report_batch(reporter, counts, total, len(errors))
        reporter.check_stop()
        reporter.update(
            counts.progress(
                SyncStage.FINALIZING,
                "Finalizing synchronization..." if not preview else "Finalizing the preview...",
                total=total,
                failed=len(errors),
            ),
            force=True,
        )
        reporter.check_stop()  # a cancel accepted before this point is honoured; see request_cancel
        if preview:
            counts.removed = _record_removals(db, gone, op_id, changes.REMOVED)
            fetched.guard = str(guard) if guard is not None else None
            return counts, errors, fetched
        counts.removed = mark_removed(db, gone, op_id)
        if counts.created or counts.updated or counts.removed:
            refresh_genre_counts(db, op_id)
        return counts, errors, fetched
    finally:
        fetched.spool.close()


def catalog_is_empty(db: Database) -> bool:
    """No album at all, removed ones included: a first sync records one initial-load entry."""
    with db.session() as s:
        return s.scalar(select(Album.id).limit(1)) is None


def _preview_batch(db: Database, batch: list[AlbumRow], op_id: int) -> tuple[int, int, int]:
    """Record what writing the batch would change (under the preview's own operation)."""
    entries = preview_albums(db, batch)
    with db.write(sync_id=op_id) as s:
        changes.record(s, op_id, entries)
        operations.fence(s, op_id)
    created = sum(1 for e in entries if e.change == changes.CREATED)
    return created, len(entries) - created, len(batch) - len(entries)


def _record_removals(db: Database, ids: list[int], op_id: int, kind: str) -> int:
    """Log the albums a preview would remove (or a guard-stopped sync held back) without
    marking them; return how many."""
    count = 0
    with db.write(sync_id=op_id) as s:
        for start in range(0, len(ids), REMOVAL_CHUNK):
            entries = changes.removal_entries(s, ids[start : start + REMOVAL_CHUNK], kind)
            changes.record(s, op_id, entries)
            count += len(entries)
        operations.fence(s, op_id, removed=count if kind == changes.REMOVED else None)
    return count


def _changed_winners(
    chunk: list[tuple], fetched: FetchResult, counts: Counts, errors: RowErrorLog
) -> tuple[list[AlbumRow], list[tuple[int, str]]]:
    """The chunk's albums that need writing: winners of their key whose content the catalog
    does not already hold. Unchanged ones are counted; losing duplicates within a tab become
    row errors; the same album in a later tab is part of its winner (it records the tab).

    Also (row digest, key) of the unchanged albums whose stored digest is not their row's,
    to record when the digests were loaded (see row_digests)."""
    changed: list[AlbumRow] = []
    digests: list[tuple[int, str]] = []
    for entry in chunk:
        tab, values = entry[0], entry[1]
        if values is None:  # spooled unparsed: its digest says the catalog holds it
            winner = fetched.winners.get(entry[2])
            if winner.tab != tab:
                continue
            if winner.row == entry[3] and winner.unchanged:
                counts.unchanged += 1
                counts.processed += 1
                continue
            values = fetched.parse_again(entry)
        winner = fetched.winners.get(values[_KEY_AT])
        if winner.tab != tab:
            continue
        if winner.row != values[_ROW_AT]:
            name = fetched.tabs[tab].name
            errors.append(duplicate_error(_from_tuple(values), winner.row, name), tab)
            errors.duplicates += 1
            fetched.tabs[tab].row_errors += 1
        elif winner.unchanged:
            counts.unchanged += 1
            counts.processed += 1
            if fetched.digests_loaded and values[_DIGEST_AT] is not None:
                digests.append((values[_DIGEST_AT], values[_KEY_AT]))
        elif winner.tabs:
            tabs = tuple(t.name for i, t in enumerate(fetched.tabs) if winner.tabs >> i & 1)
            changed.append(with_worksheets(_from_tuple(values), tabs))
        else:
            changed.append(_from_tuple(values))
    return changed, digests


def _report_batch(reporter: Reporter, counts: Counts, total: int, failed: int) -> None:
    reporter.update(
        counts.progress(
            SyncStage.PROCESSING,
            f"Syncing album {counts.processed:,} of {total:,}...",
            total=total,
            failed=failed,
        )
    )


def final_message(
    counts: Counts, failed: int, announced: int = 0, warnings: int = 0, duplicates: int = 0
) -> tuple[SyncStatus, str]:
    """The words a user reads when the sync ends, in the units of the page's metrics (albums
    synced: new, changed, unchanged; rows not used, `duplicates` of them duplicates resolved
    to their later row). Announced untitled albums and warnings (columns a tab lacks, tabs
    skipped) are information: only rows not used change the status."""
    status, message = _outcome(counts, failed, duplicates)
    if announced:
        message += (
            f" {announced:,} announced album{'s have' if announced != 1 else ' has'} no title yet."
        )
    if warnings:
        message += f" {warnings:,} warning{'s' if warnings != 1 else ''}: see below."
    return status, message


def _outcome(counts: Counts, failed: int, duplicates: int) -> tuple[SyncStatus, str]:
    albums = f"{counts.processed:,} album{'s' if counts.processed != 1 else ''} synced"
    details = f"{counts.created:,} new, {counts.updated:,} changed, {counts.unchanged:,} unchanged"
    if counts.removed:
        details += f", {counts.removed:,} removed"
    if failed:
        rows = f"{failed:,} row{'s' if failed != 1 else ''} could not be used"
        if duplicates:
            rows += (
                f", {duplicates:,} of them duplicate{'s' if duplicates != 1 else ''} resolved "
                "to the later row"
            )
        return SyncStatus.COMPLETED_WITH_WARNINGS, (
            f"Sync completed with warnings: {albums} ({details}); {rows}."
        )
    if counts.created + counts.updated == 0 and counts.removed == 0:
        return (
            SyncStatus.COMPLETED,
            f"Sync complete! Everything was already up to date ({counts.processed:,} albums "
            "unchanged).",
        )
    return SyncStatus.COMPLETED, f"Sync complete! {albums} ({details})."


def cancelled_message(who: str, progress: Progress | None) -> str:
    """What a cancelled sync left behind: nothing when it wrote no album yet."""
    wrote = progress is not None and (progress.created or progress.updated)
    if not wrote:
        return f"Sync cancelled by {who} before any album was written: the catalog was not changed."
    return (
        f"Sync cancelled by {who}. Albums synced before the cancel are kept and none was "
        "marked removed; run Sync again to finish."
    )


def execute_operation(
    db: Database,
    settings: Settings,
    op_id: int,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    source: SheetSource | None = None,
) -> None:
    """Run a claimed operation to its end. Never raises: the operation records the outcome."""
    reporter = Reporter(db, op_id, interval=settings.progress_interval, on_progress=on_progress)
    force, preview, confirmed, trigger = _operation_mode(db, op_id)
    beat_every = max(0.5, min(10.0, settings.heartbeat_timeout / 4))
    try:
        with Heartbeat(db, op_id, reporter, beat_every):
            source = source or open_source(settings)
            skip = unchanged.sheet_unchanged(
                db, settings, op_id, source, trigger=trigger, force=force, preview=preview
            )
            if skip is not None:
                _finish_unchanged(db, op_id, skip)
                _prune(db, settings, op_id)
                return
            counts, errors, fetched = sync_albums(
                db,
                settings,
                op_id,
                source,
                reporter,
                force=force,
                preview=preview,
                confirmed=confirmed,
            )
        status, message = final_message(
            counts, len(errors), fetched.announced, duplicates=errors.duplicates
        )
        if preview:
            status, message = SyncStatus.PREVIEWED, preview_message(counts, len(errors), fetched)
        _finish(
            db,
            op_id,
            status,
            message,
            progress=_final_progress(reporter, counts, len(errors)),
            row_errors=errors.kept(),
            report=fetched.report(),
            error=fetched.guard,
        )
    except SyncCancelled:
        _finish(
            db,
            op_id,
            SyncStatus.CANCELLED,
            f"Preview cancelled by {_cancelled_by(db, op_id)}. Nothing was changed."
            if preview
            else cancelled_message(_cancelled_by(db, op_id), reporter.current),
            progress=reporter.current,
        )
    except SyncInterrupted as exc:
        _finish(
            db,
            op_id,
            SyncStatus.INTERRUPTED,
            str(exc),
            progress=reporter.current,
            error=SHUTDOWN_ERROR,
        )
    except SyncError as exc:
        _finish(
            db,
            op_id,
            SyncStatus.FAILED,
            f"{'Preview' if preview else 'Sync'} failed: {exc.headline}",
            error=str(exc),
            progress=reporter.current,
            guard_stopped=isinstance(exc, RemovalGuardTripped),
        )
    except Exception as exc:  # an outage or a bug: record it, never leave it active
        if isinstance(exc, DBAPIError) and _lock_wait_ended(exc):
            log.error("sync %s failed: a lock wait ran out", op_id, exc_info=True)
            message, error = (
                "Sync failed: the catalog stayed locked by another database session.",
                (
                    "The sync waited longer than the heartbeat timeout "
                    f"({settings.heartbeat_timeout:g} s) for rows another session held locked "
                    "(for example a sync whose process was frozen). Nothing is half-written. "
                    "Run the sync again; if it keeps happening, look for long transactions on "
                    "the database server."
                ),
            )
        elif isinstance(exc, DBAPIError) and _database_unavailable(exc):
            log.error("sync %s failed: database unavailable", op_id, exc_info=True)
            message, error = (
                "Sync failed: the database was unavailable.",
                (
                    f"The database could not be reached or stayed locked ({type(exc).__name__}) "
                    "while the sync was running. Albums written before that are complete; nothing "
                    "is half-written. Check that the database is up and reachable, then run the "
                    "sync again."
                ),
            )
        else:
            log.exception("sync %s failed unexpectedly", op_id)
            message, error = (
                "Sync failed: unexpected error",
                (
                    f"Unexpected error ({type(exc).__name__}). Albums written before it are "
                    "complete; nothing is half-written. See the server log for details, then "
                    "run the sync again."
                ),
            )
        _finish(db, op_id, SyncStatus.FAILED, message, error=error, progress=reporter.current)
    _prune(db, settings, op_id)


def _prune(db: Database, settings: Settings, op_id: int) -> None:
    """Drop the history of syncs beyond SYNCCORE_KEEP_SYNCS. A failure here only delays the
    pruning to the next sync: the sync's own outcome is already recorded."""
    try:
        retention.prune_history(db, settings.keep_syncs)
    except Exception:  # noqa: BLE001 - never let housekeeping turn a finished sync into an error
        log.warning("could not prune the sync history after sync %s", op_id, exc_info=True)


def _lock_wait_ended(exc: DBAPIError) -> bool:
    """PostgreSQL's lock_timeout fired (SQLSTATE 55P03): see `Database.write`."""
    return getattr(exc.orig, "sqlstate", None) == "55P03"


def _database_unavailable(exc: DBAPIError) -> bool:
    """A lost connection or a lock held past the busy timeout, as opposed to a statement the
    database refused (which is a bug to report, not an outage to wait out)."""
    return bool(exc.connection_invalidated) or "database is locked" in str(exc.orig)


FINISH_ATTEMPTS = 6


def _finish(db: Database, op_id: int, *args, **kwargs) -> None:
    """Record the outcome, retrying while the database is unavailable: the outage that ended
    the sync may not be over yet. If it never comes back, the operation keeps its stale
    heartbeat and whoever looks next retires it as interrupted, so it never blocks for good."""
    delay = 0.5
    for attempt in range(1, FINISH_ATTEMPTS + 1):
        try:
            operations.finish(db, op_id, *args, **kwargs)
            return
        except DBAPIError:
            if attempt == FINISH_ATTEMPTS:
                log.error(
                    "could not record the end of sync %s; it will be retired as "
                    "interrupted once its heartbeat is stale",
                    op_id,
                    exc_info=True,
                )
                return
            time.sleep(delay)
            delay = min(delay * 2, 8.0)


def _final_progress(reporter: Reporter, counts: Counts, failed: int) -> Progress:
    total = reporter.current.total if reporter.current else counts.processed
    return counts.progress(SyncStage.FINALIZING, "", total=total, failed=failed)


def _operation_mode(db: Database, op_id: int) -> tuple[bool, bool, int | None, str | None]:
    """(force, preview, confirmed removals, trigger) of a claimed operation."""
    from .models import SyncOperation

    with db.session() as s:
        row = s.execute(
            select(
                SyncOperation.force,
                SyncOperation.preview,
                SyncOperation.confirmed_removals,
                SyncOperation.trigger,
            ).where(SyncOperation.id == op_id)
        ).one()
        return bool(row.force), bool(row.preview), row.confirmed_removals, row.trigger


def _finish_unchanged(db: Database, op_id: int, stamp: str) -> None:
    """End a sync whose sheet has not changed since the last successful one: nothing read."""
    _finish(
        db,
        op_id,
        SyncStatus.COMPLETED,
        f"Already up to date: the sheet has not changed since {unchanged.shown_time(stamp)} "
        "(Google Drive's last-modified time), so it was not read.",
        progress=Progress(SyncStage.FINALIZING, ""),
    )


def preview_message(counts: Counts, failed: int, fetched: FetchResult) -> str:
    """What a finished preview says; the lists are in its change log."""
    text = (
        f"Preview: this sync would create {counts.created:,}, update {counts.updated:,} and "
        f"remove {counts.removed:,} albums ({counts.unchanged:,} unchanged). Nothing was changed."
    )
    if failed:
        text += f" {failed:,} rows could not be read."
    if fetched.guard:
        text += " The removal guard would stop this sync."
    return text


def _cancelled_by(db: Database, op_id: int) -> str:
    from .models import SyncOperation

    with db.session() as s:
        return s.scalar(select(SyncOperation.cancelled_by).where(SyncOperation.id == op_id)) or (
            "a user"
        )
