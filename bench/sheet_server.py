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

from synccore.sources.sheets import GRID_FIELDS
from synccore.standin import (
    FakeApiError,
    FakeSheetsServer,
    FakeWorksheet,
    Spreadsheet,
)
from synccore.standin.masks import masked
from synccore.standin.responses import clip, resolve, spreadsheet_response

from .common import API_KEY, WORKSHEET_TITLE, peak_rss_mb_of
from .sheets import EMPTY_ROW, SPOTIFY_COLUMN, SheetSpec, render_sheet, sheet_rows


class RenderedSheetsServer(FakeSheetsServer):
    """The generic fake plus a fast path for grid-data reads of pre-rendered sheets."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.rendered: dict[str, list[bytes]] = {}
        self.edited: dict[str, int] = {}
        self.bytes_sent = 0
        self.bytes_lock = threading.Lock()

    def add_rendered(self, key: str, rows: list[bytes], columns: int) -> None:
        sheet = FakeWorksheet(WORKSHEET_TITLE, 0, [], row_count=len(rows), column_count=columns)
        self.add_spreadsheet(key, [sheet], title=f"Bench {key}")
        self.rendered[key] = rows

    def quick_answer(
        self, method: str, raw_path: str, query: dict[str, list[str]], headers
    ) -> tuple[int, bytes] | None:
        segments = [unquote(s) for s in raw_path.split("/")]
        if (
            method != "GET"
            or len(segments) != 4
            or segments[1:3] != ["v4", "spreadsheets"]
            or segments[3] not in self.rendered
            or query.get("includeGridData", ["false"])[0].lower() != "true"
        ):
            return None
        try:
            book = self.authorize_read(segments[3], query, headers)
            if query.get("fields", [""])[0] != GRID_FIELDS or len(query.get("ranges", [])) != 1:
                raise FakeApiError(400, "the bench server only serves the sync's grid read")
            text = query["ranges"][0]
            sheet, rng = resolve(book, text)
            r0, _c0, r1, _c1 = clip(sheet, rng, text)
            body = grid_response(self.rendered[book.key], r0, r1)
        except FakeApiError as error:
            return error.code, json.dumps(error.body()).encode()
        with self.bytes_lock:
            self.bytes_sent += len(body)
        return 200, body


def grid_response(rows: list[bytes], r0: int, r1: int) -> bytes:
    """The masked `spreadsheets.get` answer for rows r0..r1 (0-based, inclusive)."""
    end = r1 + 1
    while end > r0 and rows[end - 1] == EMPTY_ROW:
        end -= 1
    block = [b'"startRow":%d' % r0] if r0 else []
    if end > r0:
        block.append(b'"rowData":[' + b",".join(rows[r0:end]) + b"]")
    return b'{"sheets":[{"data":[{' + b",".join(block) + b"}]}]}"


def check_rendering(spec: SheetSpec, rows: list[bytes], sample: int = 400) -> None:
    """The fast path must answer exactly what the generic fake answers: compare the first rows."""
    values, links = [], {}
    for index, (cells, link) in enumerate(sheet_rows(spec)):
        if index >= sample:
            break
        values.append(cells)
        if link:
            links[(index, SPOTIFY_COLUMN)] = link
    sheet = FakeWorksheet(WORKSHEET_TITLE, 0, values, links)
    book = Spreadsheet("k", "t", [sheet], None, True)
    for r0, r1 in ((0, sample - 1), (3, 57), (100, sample - 1)):
        query = {
            "ranges": [f"'{WORKSHEET_TITLE}'!A{r0 + 1}:H{r1 + 1}"],
            "includeGridData": ["true"],
        }
        slow = masked(spreadsheet_response(book, query), GRID_FIELDS)
        fast = json.loads(grid_response(rows[:sample], r0, r1))
        if slow != fast:
            raise AssertionError(f"pre-rendered rows {r0}..{r1} differ from the fake's answer")


def _command(server: RenderedSheetsServer, cmd: dict[str, Any]) -> dict[str, Any]:
    op = cmd["op"]
    if op == "add":
        spec = SheetSpec(cmd["albums"], cmd.get("seed", 2025), cmd.get("edit_share", 0.0))
        if spec.key not in server.rendered:
            started = time.perf_counter()
            rows, columns, edited = render_sheet(spec)
            check_rendering(spec, rows)
            server.add_rendered(spec.key, rows, columns)
            server.edited[spec.key] = edited
            return {
                "key": spec.key,
                "rows": len(rows),
                "edited": edited,
                "build_seconds": time.perf_counter() - started,
            }
        return {
            "key": spec.key,
            "rows": len(server.rendered[spec.key]),
            "edited": server.edited[spec.key],
        }
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
