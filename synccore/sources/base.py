"""The small interface every sheet source shares: rows in chunks, plus a way to say "waiting"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class RawRow:
    """One sheet row as the source returned it.

    `number` is the 1-based row number a person sees in the sheet. `values` are the cells as
    UNFORMATTED_VALUE gives them (str, int, float, bool), ragged: trailing empty cells are
    omitted. `links` maps a 0-based column index to that cell's hyperlink, only where one exists.
    """

    number: int
    values: tuple[Any, ...]
    links: dict[int, str] | None = None


class FetchListener(Protocol):
    """What a source tells the engine while it reads."""

    def fetched(self, rows_read: int, rows_expected: int | None) -> None:
        """Rows read so far, and the sheet's row count when known (an upper bound)."""

    def waiting(self, message: str) -> None:
        """A retry wait or quota pause, e.g. "Rate limited by Google Sheets, retrying in 4 s"."""

    def check_stop(self) -> None:
        """Raise if the sync must stop (a cancel, a shutdown); called several times a second
        while a request is in flight, so a stop does not wait for the answer."""


class NullFetchListener:
    def fetched(self, rows_read: int, rows_expected: int | None) -> None:
        pass

    def waiting(self, message: str) -> None:
        pass

    def check_stop(self) -> None:
        pass


class SheetSource(Protocol):
    """A readable album sheet. `read()` yields chunks of rows in sheet order, header included.

    It raises a `SourceError` subclass with a user-facing message when the sheet cannot be
    read; the engine reads the whole sheet before writing, so such a failure changes nothing.
    """

    description: str  # shown to users; never contains a secret

    def read(self, listener: FetchListener) -> Iterator[list[RawRow]]: ...
