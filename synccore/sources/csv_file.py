"""A local CSV file as the sheet: for offline use, exports, and cron jobs without Google."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from ..errors import SheetNotFound, SourceError
from .base import FetchListener, RawRow

CHUNK_ROWS = 5_000


class CsvSource:
    """Reads a CSV file in chunks; a URL in a cell is its link (CSV has no hyperlinks)."""

    fetch_message = "Reading albums from the CSV file"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.description = f"CSV file {self.path.name}"
        self.tab_title = self.path.stem  # a CSV file is one tab, named for the file

    def read(self, listener: FetchListener) -> Iterator[list[RawRow]]:
        try:
            handle = open(self.path, newline="", encoding="utf-8-sig")  # noqa: SIM115
        except FileNotFoundError:
            raise SheetNotFound(
                f"The CSV file {self.path} does not exist. Check SYNCCORE_SHEET."
            ) from None
        except OSError as exc:
            raise SourceError(f"The CSV file {self.path} cannot be read: {exc.strerror}.") from None
        with handle:
            chunk: list[RawRow] = []
            try:
                for number, cells in enumerate(csv.reader(handle), start=1):
                    while cells and cells[-1] == "":
                        cells.pop()  # ragged, like the Sheets API
                    chunk.append(RawRow(number, tuple(cells)))
                    if len(chunk) >= CHUNK_ROWS:
                        yield chunk
                        listener.fetched(number, None)
                        chunk = []
            except (UnicodeDecodeError, csv.Error) as exc:
                raise SourceError(
                    f"The CSV file {self.path.name} is not valid UTF-8 CSV ({exc}). "
                    "Export it again as CSV (UTF-8)."
                ) from None
            if chunk:
                yield chunk
                listener.fetched(chunk[-1].number, None)
