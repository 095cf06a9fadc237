"""The fake Sheets API in its own process, serving pre-rendered benchmark sheets.

`python -m bench.sheet_server` prints its URL, then takes one JSON command per line on stdin
and answers one JSON line on stdout (see `SheetServerProcess` for the client side). Running it
apart keeps its CPU time and memory out of the sync's figures, and pre-rendering each row's
JSON once means a request costs a slice and a join instead of building a dict per cell: the
fake's own cost is then a small part of every figure, and the floor baseline (which reads the
same HTTP) carries it too.

Only grid-data reads of benchmark sheets take the fast path; it answers what the generic fake
would (checked on the first rows of every sheet it builds) and counts against the same read
quota; everything else (metadata, tokens) goes to the generic fake.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.parse import unquote

from synccore.demo import REAL_TRACKER_YEARS, demo_tracker, keep_links
from synccore.sources.answers import GRID_PARAMS, VALUE_PARAMS, column_letters
from synccore.standin import (
    FakeApiError,
    FakeSheetsServer,
    FakeWorksheet,
    Spreadsheet,
)
from synccore.standin.masks import masked
from synccore.standin.responses import a1_text, clip, resolve, spreadsheet_response, value_range

from .common import API_KEY, peak_rss_mb_of
from .sheets import (
    EMPTY_CELL,
    EMPTY_VALUES,
    GRID_COLUMNS,
    LINK_SERVICES,
    RenderedSheet,
    SheetSpec,
    album_tab,
    bench_worksheets,
    render_sheet,
)


class RenderedSheetsServer(FakeSheetsServer):
    """The generic stand-in plus a fast path for the lean reads of pre-rendered sheets."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.rendered: dict[str, RenderedSheet] = {}
        self.bytes_sent = 0
        self.bytes_lock = threading.Lock()

    def add_rendered(self, key: str, sheet: RenderedSheet) -> None:
        """Serve the sheet; the generic stand-in keeps only each tab's size, for metadata."""
        grids = [
            FakeWorksheet(t.title, t.sheet_id, [], row_count=t.rows, column_count=t.columns)
            for t in sheet.tabs
        ]
        self.add_spreadsheet(key, grids, title=f"Bench {key}")
        self.rendered[key] = sheet

    def quick_answer(
        self, method: str, raw_path: str, query: dict[str, list[str]], headers
    ) -> tuple[int, bytes] | None:
        segments = [unquote(s) for s in raw_path.split("/")]
        if (
            method != "GET"
            or len(segments) not in (4, 5)
            or segments[1:3] != ["v4", "spreadsheets"]
        ):
            return None
        rendered = self.rendered.get(segments[3])
        values = segments[4:] == ["values:batchGet"]
        grid = len(segments) == 4 and query.get("includeGridData", [""])[0] == "true"
        if rendered is None or not (values or grid):
            return None
        try:
            book = self.authorize_read(segments[3], query, headers)
            if values:
                body = values_response(book, rendered, query)
            else:
                body = links_response(book, rendered, query)
        except FakeApiError as error:
            return error.code, json.dumps(error.body()).encode()
        with self.bytes_lock:
            self.bytes_sent += len(body)
        return 200, body


def _asked(book: Spreadsheet, sheet: RenderedSheet, query: dict[str, list[str]], fields: str):
    """(worksheet, rendered tab, clipped range) of each range asked, in order."""
    if query.get("fields", [""])[0] != fields:
        raise FakeApiError(400, "the bench server only serves the lean read's fields")
    tabs = {tab.sheet_id: tab for tab in sheet.tabs}
    for text in query.get("ranges", []):
        grid, rng = resolve(book, text)
        yield grid, tabs[grid.sheet_id], clip(grid, rng, text)


def values_response(book: Spreadsheet, sheet: RenderedSheet, query: dict[str, list[str]]) -> bytes:
    """The masked `values.batchGet` answer (UNFORMATTED_VALUE, rows) for ranges from column A
    to at least the last column with data."""
    if query.get("valueRenderOption", [""])[0] != "UNFORMATTED_VALUE":
        raise FakeApiError(400, "the bench server only serves unformatted values")
    found = []
    for grid, tab, (r0, c0, r1, c1) in _asked(book, sheet, query, VALUE_PARAMS["fields"]):
        if c0 != 0 or c1 < tab.data_columns - 1:
            raise FakeApiError(400, "the bench server only serves whole rows of values")
        end = min(r1 + 1, len(tab.values))
        while end > r0 and tab.values[end - 1] == EMPTY_VALUES:
            end -= 1
        part = b'{"range":' + json.dumps(a1_text(grid, r0, c0, r1, c1)).encode()
        if end > r0:
            part += b',"values":[' + b",".join(tab.values[r0:end]) + b"]"
        found.append(part + b"}")
    return b'{"valueRanges":[' + b",".join(found) + b"]}"


def links_response(book: Spreadsheet, sheet: RenderedSheet, query: dict[str, list[str]]) -> bytes:
    """The masked grid-data answer (links and colors) for any ranges: one block per range,
    grouped by tab in the spreadsheet's order, as Google sends them."""
    blocks: dict[int, list[bytes]] = {}
    for _grid, tab, (r0, c0, r1, c1) in _asked(book, sheet, query, GRID_PARAMS["fields"]):
        rows: list[bytes] = []
        for r in range(r0, r1 + 1):
            cells = tab.grid.get(r, ())[c0 : c1 + 1]
            end = len(cells)
            while end and cells[end - 1] == EMPTY_CELL:
                end -= 1
            rows.append(b'{"values":[' + b",".join(cells[:end]) + b"]}" if end else EMPTY_CELL)
        while rows and rows[-1] == EMPTY_CELL:
            rows.pop()
        block = [b'"startRow":%d' % r0] if r0 else []
        if c0:
            block.append(b'"startColumn":%d' % c0)
        if rows:
            block.append(b'"rowData":[' + b",".join(rows) + b"]")
        blocks.setdefault(tab.sheet_id, []).append(b"{" + b",".join(block) + b"}")
    sheets = [
        b'{"properties":{"sheetId":%d},"data":[' % tab.sheet_id
        + b",".join(blocks[tab.sheet_id])
        + b"]}"
        for tab in sheet.tabs
        if tab.sheet_id in blocks
    ]
    return b'{"sheets":[' + b",".join(sheets) + b"]}"


def check_rendering(sheet: RenderedSheet, sheets: list[FakeWorksheet], sample: int = 400) -> None:
    """The fast path must answer exactly what the generic stand-in answers: compare the first
    rows of two tabs, in one request and in parts."""
    book = Spreadsheet("k", "t", sheets, None, True)
    first, second = sheets[0], sheets[2]
    rows = min(sample, len(first.values), len(second.values))

    def span(ws: FakeWorksheet, r0: int, r1: int, c0: int, c1: int) -> str:
        return f"'{ws.title}'!{column_letters(c0)}{r0 + 1}:{column_letters(c1)}{r1 + 1}"

    last = GRID_COLUMNS - 1
    asks = [
        [span(first, 0, rows - 1, 0, last), span(second, 0, rows - 1, 0, last)],
        [span(first, 3, 57, 0, last), span(first, 58, rows + 80, 0, last)],
    ]
    for ranges in asks:
        query = {**{k: [v] for k, v in VALUE_PARAMS.items()}, "ranges": ranges}
        slow = masked(
            {"valueRanges": [value_range(book, r, query) for r in ranges]}, VALUE_PARAMS["fields"]
        )
        if slow != json.loads(values_response(book, sheet, query)):
            raise AssertionError(f"pre-rendered values of {ranges} differ")
    for ranges in (
        [span(first, 0, rows - 1, 1, 11), span(second, 0, rows - 1, 3, last)],
        [span(first, 5, 99, 3, 3), span(first, 100, rows + 80, 1, 11)],
    ):
        query = {**{k: [v] for k, v in GRID_PARAMS.items()}, "ranges": ranges}
        slow = masked(spreadsheet_response(book, query), GRID_PARAMS["fields"])
        if slow != json.loads(links_response(book, sheet, query)):
            raise AssertionError(f"pre-rendered links of {ranges} differ")


TRACKER_KEY = "bench-real-tracker-sized-spreadsheet"


def serve_tracker(server: FakeSheetsServer, albums_per_tab: int) -> dict[str, Any]:
    """A spreadsheet the real tracker's size and shape (18 album tabs and a Statistics tab,
    two or three links per album in the three ways a cell carries one, colored Length cells,
    grids with empty rows and columns past the data) on the generic stand-in."""
    tabs = [
        keep_links(tab, LINK_SERVICES)
        for tab in demo_tracker(
            years=REAL_TRACKER_YEARS, albums_per_tab=albums_per_tab, announced=4
        )
    ]
    server.add_spreadsheet(TRACKER_KEY, bench_worksheets(tabs), title="Bench tracker")
    return {"key": TRACKER_KEY, "albums": sum(len(t.albums) for t in tabs), "tabs": len(tabs)}


def _command(server: RenderedSheetsServer, cmd: dict[str, Any]) -> dict[str, Any]:
    op = cmd["op"]
    if op == "add":
        spec = SheetSpec(cmd["albums"], cmd.get("seed", 2025), cmd.get("edit_share", 0.0))
        if spec.key not in server.rendered:
            started = time.perf_counter()
            sheet, worksheets = render_sheet(spec)
            check_rendering(sheet, worksheets)
            del worksheets  # the rendered JSON is all the server keeps
            server.add_rendered(spec.key, sheet)
            return {**_described(spec.key, sheet), "build_seconds": time.perf_counter() - started}
        return _described(spec.key, server.rendered[spec.key])
    if op == "tracker":
        return serve_tracker(server, cmd.get("albums_per_tab", 975))
    if op == "drop":
        server.rendered.pop(cmd["key"], None)
        return {}
    if op == "quota":
        server.set_read_quota(cmd.get("per_minute"))
        return {}
    if op == "reset":
        server.reset_log()
        with server.bytes_lock:
            server.bytes_sent = 0
        return {}
    if op == "stats":
        with server.bytes_lock:
            return {
                "read_requests": server.read_requests,
                "bytes_sent": server.bytes_sent,
                "status_counts": {str(k): v for k, v in server.status_counts.items()},
                "peak_rss_mb": peak_rss_mb_of_self(),
            }
    raise ValueError(f"unknown command {op!r}")


def _described(key: str, sheet: RenderedSheet) -> dict[str, Any]:
    """What a scenario needs of a served sheet: its key, size, and (for the floor) its album
    tabs' names, rows and data width."""
    return {
        "key": key,
        "rows": sheet.rows,
        "albums": sheet.albums,
        "edited": sheet.edited,
        "tabs": [
            [t.title, len(t.values), t.data_columns] for t in sheet.tabs if album_tab(t.title)
        ],
    }


def peak_rss_mb_of_self() -> float | None:
    import os

    return peak_rss_mb_of(os.getpid())


def main() -> None:
    server = RenderedSheetsServer(api_keys={API_KEY}).start()
    print(json.dumps({"url": server.url}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": True, **_command(server, json.loads(line))}
        except Exception as exc:  # noqa: BLE001 - reported to the client, which raises
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply), flush=True)
    server.stop()


class SheetServerProcess:
    """The client side: start the server process, send it commands, stop it."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.sheet_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=str(_repo()),
        )
        self.url = json.loads(self._readline())["url"]
        self.pid = self.proc.pid

    def _readline(self) -> str:
        assert self.proc.stdout
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the bench sheet server exited")
        return line

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self._readline())
        if not reply.pop("ok"):
            raise RuntimeError(f"bench sheet server: {reply['error']}")
        return reply

    def sheet(self, albums: int, *, seed: int = 2025, edit_share: float = 0.0) -> dict[str, Any]:
        """Build (once) and serve a sheet; returns its key, rows and albums edited."""
        return self.call("add", albums=albums, seed=seed, edit_share=edit_share)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> SheetServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _repo():
    from .common import REPO

    return REPO


if __name__ == "__main__":
    main()
