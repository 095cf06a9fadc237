"""The lean read: every selected tab's rows in as few requests as the 2 MB guidance allows.

Values of every column come from `values.batchGet` (several tabs' ranges in one request);
links and the Length column's colors from `spreadsheets.get` grid data masked to those fields
and limited to the columns that carry them (from the album column to the last link column,
Length included), known once the tab's header is found in its first rows. Each kind of request
is sized from the bytes per row its own previous answers measured.

No row is taken as empty on one answer's word. Rows an answer left out (Google omits trailing
empty rows) are asked for again, as extra ranges of the next request of the same kind (or one
closing request): values must come back empty, and links or colors must not appear where the
first grid answer had none for rows whose link or Length cells hold text. Rows are passed on
only once they and everything before them are proved, so when a second answer contradicts the
first, the read goes back to the first unproved row (nothing from there on was passed on),
counted as a retry within the usual bounds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import HeaderNotFound, TransientSourceError
from ..rows import HEADER_SCAN_ROWS, find_header
from .answers import GRID_PARAMS, VALUE_PARAMS, CellExtras, Span, broken, grid_extras
from .answers import value_ranges as decode_value_ranges
from .base import FetchListener, RawRow, Tab

TARGET_RESPONSE_BYTES = 2_000_000  # Google's recommended maximum response size
FILL = 0.9  # aim a little under the target: rows differ in size
MIN_CHUNK_ROWS, MAX_CHUNK_ROWS = 100, 50_000
# Before a kind of request has been measured: bytes per cell, and per row at most this many
# value cells (a new tab has 26 columns, mostly unused, and unused cells cost nothing).
FIRST_VALUE_BYTES, FIRST_LINK_BYTES, FIRST_VALUE_COLUMNS = 12, 30, 16

# (path after /v4/spreadsheets/{key}, params, check, listener) -> (checked answer, bytes)
Fetch = Callable[[str, dict[str, Any], Callable[[dict], Any], FetchListener], tuple[Any, int]]
# (error, conflicts so far, when the first happened, listener): waits, or raises when spent
Retry = Callable[[TransientSourceError, int, float, FetchListener], None]


@dataclass
class _TabPlan:
    tab: Tab
    next_row: int = 0  # the next row whose values are not asked for yet
    decided: bool = False  # the header was looked for
    header_end: int = 0  # rows before this one are the header and what is above it
    skipped: bool = False  # no header: the engine reads no further, nor does the read
    columns: tuple[int, int] | None = None  # the grid columns to read; None: none


@dataclass(eq=False)
class _Piece:
    """Rows [first, last) of one tab: their values, then their links and colors."""

    tab: int
    first: int
    last: int
    values: list[tuple[Any, ...]] = field(default_factory=list)
    unproved: int | None = None  # values of rows [unproved, last) said empty once
    grid_next: int = -1  # links read for the rows before this one (-1: not started)
    grid_proofs: int = 0  # grid proofs in flight for this piece
    extras: dict[int, CellExtras] = field(default_factory=dict)


@dataclass
class Measure:
    """Bytes per row of one kind of request, from its last answer that carried rows."""

    per_row: float | None = None

    def budget(self, fixed: int | None, per_row_estimate: float) -> int:
        if fixed:
            return fixed
        per_row = self.per_row or per_row_estimate
        rows = int(TARGET_RESPONSE_BYTES * FILL / max(per_row, 1.0))
        return max(MIN_CHUNK_ROWS, min(MAX_CHUNK_ROWS, rows))

    def learn(self, size: int, rows: int) -> None:
        if rows > 0 and size > 0:
            self.per_row = size / rows


class LeanRead:
    """One read of the selected tabs, in order; `rows_of(index)` yields one tab's chunks."""

    def __init__(
        self,
        tabs: list[Tab],
        fetch: Fetch,
        retry: Retry,
        *,
        fixed_rows: int | None = None,
        header_aliases=None,
    ):
        self.plans = [_TabPlan(tab) for tab in tabs]
        self.fetch, self.retry = fetch, retry
        self.fixed_rows = fixed_rows
        self.aliases = header_aliases
        self.cursor = 0  # the tab whose values are read next
        self.queue: deque[_Piece] = deque()  # read, not yet passed on
        self.grid_proofs: list[tuple[_Piece, int, int]] = []
        self.values_bytes, self.grid_bytes = Measure(), Measure()
        self.conflicts, self.conflicts_started = 0, 0.0
        self._events = self._stream()
        self._peeked: tuple[int, list[RawRow], int] | None = None
        self.listener: FetchListener | None = None

    # the engine's side

    def rows_of(self, index: int, listener: FetchListener) -> Iterator[list[RawRow]]:
        """Tab `index`'s rows in chunks; leftovers of earlier tabs (one the engine stopped
        reading) are skipped."""
        self.listener = listener
        while True:
            event = self._peeked or next(self._events, None)
            self._peeked = None
            if event is None:
                return
            tab, rows, upto = event
            if tab < index:
                continue
            if tab > index:
                self._peeked = event
                return
            listener.fetched(upto, self.plans[tab].tab.rows)
            if rows:
                yield rows

    # the stream of (tab, rows, rows read up to)

    def _stream(self) -> Iterator[tuple[int, list[RawRow], int]]:
        while True:
            yield from self._release()
            if self._grid_due():
                self._read_grid()
            elif self._values_left() or self._values_proofs():
                self._read_values()
            elif self._grid_work() or self.grid_proofs:
                self._read_grid()
            elif not self.queue:
                return
            else:  # pragma: no cover - every queued piece has work left until released
                raise AssertionError("lean read stalled")

    def _release(self) -> Iterator[tuple[int, list[RawRow], int]]:
        while self.queue and self._done(self.queue[0]):
            piece = self.queue.popleft()
            yield piece.tab, self._rows(piece), piece.last

    def _done(self, piece: _Piece) -> bool:
        plan = self.plans[piece.tab]
        if piece.unproved is not None or not plan.decided or piece.grid_proofs:
            return False
        return plan.columns is None or self._grid_from(piece) >= piece.last

    def _grid_from(self, piece: _Piece) -> int:
        """The first row of the piece whose links are still to be read (the rows down to the
        header carry none the engine uses)."""
        if piece.grid_next < 0:
            piece.grid_next = max(piece.first, self.plans[piece.tab].header_end)
        return piece.grid_next

    @staticmethod
    def _rows(piece: _Piece) -> list[RawRow]:
        rows = []
        for offset, values in enumerate(piece.values):
            number = piece.first + offset
            links, colors = piece.extras.get(number, (None, None))
            rows.append(RawRow(number + 1, values, links, colors))
        return rows

    # values

    def _values_left(self) -> bool:
        while self.cursor < len(self.plans):
            plan = self.plans[self.cursor]
            if plan.next_row < plan.tab.rows and not plan.skipped:
                return True
            self.cursor += 1
        return False

    def _values_proofs(self) -> list[Span]:
        """The unproved rows of queued pieces, runs in one tab merged."""
        spans: list[Span] = []
        for piece in self.queue:
            if piece.unproved is None:
                continue
            span = self._values_span(piece, piece.unproved, piece.last)
            last = spans[-1] if spans else None
            if (
                last
                and last.gid == span.gid
                and last.title == span.title
                and last.last == span.first
            ):
                spans[-1] = Span(span.title, span.gid, last.first, span.last, 0, span.last_col)
            else:
                spans.append(span)
        return spans

    def _new_pieces(self) -> list[_Piece]:
        budget = self.values_bytes.budget(self.fixed_rows, self._values_estimate())
        pieces: list[_Piece] = []
        while budget > 0 and self._values_left():
            plan = self.plans[self.cursor]
            left = plan.tab.rows - plan.next_row
            rows = min(budget, left)
            if plan.next_row == 0 and rows < min(left, HEADER_SCAN_ROWS) and pieces:
                break  # a tab starts with its header rows in one piece
            pieces.append(_Piece(self.cursor, plan.next_row, plan.next_row + rows))
            plan.next_row += rows
            budget -= rows
        return pieces

    def _values_estimate(self) -> float:
        plan = self.plans[min(self.cursor, len(self.plans) - 1)]
        return FIRST_VALUE_BYTES * min(max(plan.tab.columns, 1), FIRST_VALUE_COLUMNS)

    def _read_values(self) -> None:
        proofs = self._values_proofs()
        pieces = self._new_pieces()
        spans = proofs + [self._values_span(p, p.first, p.last) for p in pieces]
        answer, size = self.fetch(
            "/values:batchGet",
            {**VALUE_PARAMS, "ranges": [s.a1 for s in spans]},
            lambda data: decode_value_ranges(data, spans),
            self._listener(),
        )
        proof_rows, new_rows = answer[: len(proofs)], answer[len(proofs) :]
        self.values_bytes.learn(size, sum(len(rows) for rows in new_rows))
        for span, rows in zip(proofs, proof_rows, strict=True):
            if any(rows):
                self._values_conflict(span)
                return  # everything from the span on is read again
        for piece in self.queue:
            piece.unproved = None  # proved by this answer
        for piece, rows in zip(pieces, new_rows, strict=True):
            piece.values = rows
            if len(rows) < piece.last - piece.first:
                piece.unproved = piece.first + len(rows)
            self.queue.append(piece)
        for index in sorted({p.tab for p in self.queue}):
            self._decide_header(index)

    def _values_conflict(self, span: Span) -> None:
        """A proof found values: keep what came before the span, read again from there."""
        self._conflict(
            f"Google Sheets left {span.describe()} out of one answer but sent values for them "
            "in another"
        )
        keep: deque[_Piece] = deque()
        for piece in self.queue:
            keep.append(piece)
            tab = self.plans[piece.tab].tab
            if (tab.title, tab.gid, piece.unproved) == (span.title, span.gid, span.first):
                piece.last = span.first
                self.cursor, self.plans[piece.tab].next_row = piece.tab, span.first
                break
        for index in range(self.cursor + 1, len(self.plans)):
            self.plans[index] = _TabPlan(self.plans[index].tab)
        self.queue = keep
        for piece in keep:
            piece.unproved = None  # the pieces before the span were proved by this answer
        # A header was only ever looked for in proved rows, all before the span: it stands.
        self.grid_proofs = [g for g in self.grid_proofs if any(g[0] is p for p in keep)]

    def _decide_header(self, tab: int) -> None:
        """Find the tab's header in its first rows, as the engine will (the same rows, the
        same rule), to know which columns carry links and colors."""
        plan = self.plans[tab]
        if plan.decided:
            return
        rows: list[RawRow] = []
        for piece in (p for p in self.queue if p.tab == tab):
            rows.extend(RawRow(piece.first + i + 1, v) for i, v in enumerate(piece.values))
            if len(rows) >= HEADER_SCAN_ROWS:
                break  # the rows before an unproved run stand, whatever its proof says
            if piece.unproved is not None:
                return  # rows may follow the run: wait for its proof
        if len(rows) < HEADER_SCAN_ROWS and plan.next_row < plan.tab.rows:
            return
        plan.decided = True
        try:
            columns, index = find_header(rows[:HEADER_SCAN_ROWS], self.aliases)
        except HeaderNotFound:
            plan.skipped = True  # the engine skips or fails this tab: read no further
            return
        plan.header_end = rows[index].number
        needed = [c for c, _ in columns.links] + [columns.album]
        if columns.album_type is not None:
            needed.append(columns.album_type)
        plan.columns = (min(needed), max(needed))

    # links and colors

    def _grid_work(self) -> list[_Piece]:
        work = []
        for piece in self.queue:
            plan = self.plans[piece.tab]
            if not plan.decided:
                break  # the header (and so the columns) of this tab is not known yet
            if plan.columns is None:
                continue
            if self._grid_from(piece) < piece.last:
                work.append(piece)
        return work

    def _grid_due(self) -> bool:
        """Read links now when a full request's worth of rows waits for them, or when no
        values are left to read."""
        work = self._grid_work()
        if not work:
            return False
        waiting = sum(p.last - p.grid_next for p in work)
        budget = self.grid_bytes.budget(self.fixed_rows, self._grid_estimate(work[0]))
        return waiting >= budget or not self._values_left()

    def _grid_estimate(self, piece: _Piece) -> float:
        columns = self.plans[piece.tab].columns or (0, 0)
        return FIRST_LINK_BYTES * (columns[1] - columns[0] + 1)

    def _read_grid(self) -> None:
        proofs = [self._grid_span(p, first, last) for p, first, last in self.grid_proofs]
        work = self._grid_work()
        budget = (
            self.grid_bytes.budget(self.fixed_rows, self._grid_estimate(work[0])) if work else 0
        )
        asked: list[tuple[_Piece, int, int]] = []
        for piece in work:
            if budget <= 0:
                break
            last = min(piece.last, piece.grid_next + budget)
            asked.append((piece, piece.grid_next, last))
            budget -= last - piece.grid_next
        spans = proofs + [self._grid_span(p, first, last) for p, first, last in asked]
        answer, size = self.fetch(
            "",
            {**GRID_PARAMS, "ranges": [s.a1 for s in spans]},
            lambda data: grid_extras(data, spans),
            self._listener(),
        )
        proof_answers, new_answers = answer[: len(proofs)], answer[len(proofs) :]
        self.grid_bytes.learn(size, sum(last - first for _, first, last in asked))
        proved = self.grid_proofs
        self.grid_proofs = []
        contradicted: list[str] = []
        for (piece, first, last), extras in zip(proved, proof_answers, strict=True):
            piece.grid_proofs -= 1
            if any(links or colors for links, colors in extras):
                contradicted.append(self._grid_span(piece, first, last).describe())
                piece.grid_next = min(piece.grid_next, first)
                piece.extras = {r: e for r, e in piece.extras.items() if r < first}
        if contradicted:  # one retry for one answer, however many ranges it contradicts
            self._conflict(
                f"Google Sheets left the links of {contradicted[0]} out of one answer but sent "
                "them in another"
            )
        for (piece, first, last), extras in zip(asked, new_answers, strict=True):
            if piece.grid_next != first:
                continue  # a proof above sent this piece back to an earlier row
            for offset, (links, colors) in enumerate(extras):
                if links or colors:
                    piece.extras[first + offset] = (links, colors)
            piece.grid_next = last
            self._prove_grid_tail(piece, first + len(extras), last)

    def _prove_grid_tail(self, piece: _Piece, first: int, last: int) -> None:
        """Rows [first, last) came back without links or colors: ask again for those whose
        link or Length cells hold text (an empty cell carries neither)."""
        low, high = self.plans[piece.tab].columns or (0, 0)
        texts = [
            piece.first + i
            for i, values in enumerate(piece.values)
            if first <= piece.first + i < last
            and any(v is not None for v in values[low : high + 1])
        ]
        if texts:
            self.grid_proofs.append((piece, texts[0], texts[-1] + 1))
            piece.grid_proofs += 1

    # shared

    def _values_span(self, piece: _Piece, first: int, last: int) -> Span:
        tab = self.plans[piece.tab].tab
        return Span(tab.title, tab.gid, first, last, 0, max(tab.columns, 1) - 1)

    def _grid_span(self, piece: _Piece, first: int, last: int) -> Span:
        tab = self.plans[piece.tab].tab
        low, high = self.plans[piece.tab].columns or (0, 0)
        return Span(tab.title, tab.gid, first, last, low, high)

    def _listener(self) -> FetchListener:
        assert self.listener is not None  # set by rows_of, the only way in
        return self.listener

    def _conflict(self, message: str) -> None:
        self.conflicts += 1
        self.conflicts_started = self.conflicts_started or time.monotonic()
        self.retry(broken(message), self.conflicts, self.conflicts_started, self._listener())
