"""Pure: the Sheets API's answers to the lean read, checked and decoded.

Values come from `values.batchGet` (one ValueRange per range asked, in the order asked); links
and colors from `spreadsheets.get` grid data masked to those fields, one GridData block per
range asked, found by its sheet id, start row and start column. An answer that does not carry
exactly the ranges asked for is a retryable "broken" error: it must never read as rows that are
not there. Fewer rows than asked is legitimate (Google omits trailing empty rows and cells);
the reader proves such rows empty with a second answer (see `lean_read`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..colorflags import api_color
from ..errors import TransientSourceError
from .base import RawRow

VALUE_PARAMS = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "majorDimension": "ROWS",
    "fields": "valueRanges(range,values)",
}
LINK_FIELDS = "hyperlink,textFormatRuns(format(link(uri))),effectiveFormat(backgroundColor)"
GRID_PARAMS = {
    "includeGridData": "true",
    "fields": (
        f"sheets(properties(sheetId),data(startRow,startColumn,rowData(values({LINK_FIELDS}))))"
    ),
}
CellExtras = tuple[dict[int, str] | None, dict[int, tuple[int, int, int]] | None]


@dataclass(frozen=True)
class Span:
    """Rows [first, last) (0-based) and columns [first_col, last_col] of one worksheet."""

    title: str
    gid: int
    first: int
    last: int
    first_col: int
    last_col: int

    @property
    def a1(self) -> str:
        """`'Title'!B21:L40`, titles quoted as Google expects."""
        quoted = "'" + self.title.replace("'", "''") + "'"
        c0, c1 = column_letters(self.first_col), column_letters(self.last_col)
        return f"{quoted}!{c0}{self.first + 1}:{c1}{self.last}"

    def describe(self) -> str:
        return f"rows {self.first + 1} to {self.last} of '{self.title}'"


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (the stand-in writes its ranges with it too)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def broken(message: str) -> TransientSourceError:
    return TransientSourceError(message, kind="broken")


# -- values.batchGet -------------------------------------------------------------------------

_ECHO_CELL = re.compile(r"([A-Za-z]+)(\d+)")


def _echo_start(text: str) -> tuple[str, str, int] | None:
    """(title, first column letters, first row) of a range Google echoes, or None."""
    if text.startswith("'"):
        i, chars = 1, []
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] != "'":
                    break
                i += 1
            chars.append(text[i])
            i += 1
        title, rest = "".join(chars), text[i + 1 :]
    else:
        title, sep, rest = text.partition("!")
        rest = sep + rest
    match = _ECHO_CELL.match(rest[1:]) if rest.startswith("!") else None
    return (title, match.group(1).upper(), int(match.group(2))) if match else None


def value_ranges(answer: dict[str, Any], spans: list[Span]) -> list[list[tuple[Any, ...]]]:
    """The rows of each span, as value tuples ("" read as an empty cell, trailing empty cells
    dropped); a broken error unless every span is answered, in order, within its bounds."""
    what = spans[0].describe() if len(spans) == 1 else f"{len(spans)} ranges"
    if "error" in answer:
        raise broken(f"Google Sheets answered with an error instead of the values of {what}")
    found = answer.get("valueRanges")
    if not isinstance(found, list) or len(found) != len(spans):
        raise broken(f"Google Sheets answered without the values of {what}")
    return [_value_rows(found_range, span) for found_range, span in zip(found, spans, strict=True)]


_SCALARS = (str, int, float, bool)


def _value_rows(found: Any, span: Span) -> list[tuple[Any, ...]]:
    asked = span.describe()
    echo = _echo_start(found.get("range", "")) if isinstance(found, dict) else None
    if echo is None:
        raise broken(f"Google Sheets answered without the values of {asked}")
    if echo != (span.title, column_letters(span.first_col), span.first + 1):
        raise broken(
            f"Google Sheets answered with values starting elsewhere than row {span.first + 1} "
            f"when {asked} were asked for"
        )
    rows = found.get("values") or []
    width = span.last_col - span.first_col + 1
    if not isinstance(rows, list) or len(rows) > span.last - span.first:
        raise broken(f"Google Sheets answered with more rows than {asked}")
    decoded = []
    for row in rows:
        if not (isinstance(row, list) and len(row) <= width):
            raise broken(
                f"Google Sheets answered with the values of {asked} in an unexpected shape"
            )
        values = [None if v == "" else v for v in row]
        if any(v is not None and not isinstance(v, _SCALARS) for v in values):
            raise broken(
                f"Google Sheets answered with the values of {asked} in an unexpected shape"
            )
        while values and values[-1] is None:
            values.pop()
        decoded.append(tuple(values))
    return decoded


# -- spreadsheets.get grid data, masked to links and colors -----------------------------------


def grid_extras(answer: dict[str, Any], spans: list[Span]) -> list[list[CellExtras]]:
    """(links, colors) per answered row of each span, columns numbered in the sheet; a broken
    error unless the answer holds exactly one block per span, within its bounds."""
    what = spans[0].describe() if len(spans) == 1 else f"{len(spans)} ranges"
    if "error" in answer:
        raise broken(f"Google Sheets answered with an error instead of the links of {what}")
    blocks: dict[tuple[int, int, int], Any] = {}
    try:
        for sheet in answer["sheets"]:
            gid = (sheet.get("properties") or {}).get("sheetId", 0)
            for block in sheet["data"]:
                where = (gid, block.get("startRow", 0), block.get("startColumn", 0))
                if where in blocks:
                    raise broken(f"Google Sheets answered with unasked links for {what}")
                blocks[where] = block
    except (KeyError, TypeError, AttributeError):
        raise broken(f"Google Sheets answered without the links of {what}") from None
    result = []
    for span in spans:
        block = blocks.pop((span.gid, span.first, span.first_col), None)
        if block is None:
            raise broken(
                f"Google Sheets answered without the links of {span.describe()}, or with them "
                "starting elsewhere"
            )
        result.append(_block_extras(block, span))
    if blocks:
        raise broken(f"Google Sheets answered with unasked links for {what}")
    return result


def _block_extras(block: Any, span: Span) -> list[CellExtras]:
    asked = span.describe()
    row_data = block.get("rowData") or [] if isinstance(block, dict) else None
    if not isinstance(row_data, list) or len(row_data) > span.last - span.first:
        raise broken(f"Google Sheets answered with more rows than {asked}")
    width = span.last_col - span.first_col + 1
    try:
        extras = []
        for row in row_data:
            cells = row.get("values") or []
            if len(cells) > width:
                raise TypeError
            extras.append(_row_extras(cells, span.first_col))
        return extras
    except (AttributeError, TypeError, KeyError):
        raise broken(
            f"Google Sheets answered with the links of {asked} in an unexpected shape"
        ) from None


def _row_extras(cells: list[dict[str, Any]], first_col: int) -> CellExtras:
    links: dict[int, str] | None = None
    colors: dict[int, tuple[int, int, int]] | None = None
    for offset, cell in enumerate(cells):
        if not cell:
            continue
        link = cell_link(cell)
        if link:
            links = links or {}
            links[first_col + offset] = link
        if "effectiveFormat" in cell and (color := cell_color(cell)) is not None:
            colors = colors or {}
            colors[first_col + offset] = color
    return links, colors


# -- cells -----------------------------------------------------------------------------------


def cell_value(cell: dict[str, Any]) -> Any:
    value = cell.get("effectiveValue")
    if not value:
        return None
    for kind in ("stringValue", "numberValue", "boolValue"):
        if kind in value:
            return value[kind]
    if "errorValue" in value:  # a formula error such as #N/A shows as its text
        return "#" + str(value["errorValue"].get("type", "ERROR")).replace("_", "/")
    return None


def cell_link(cell: dict[str, Any]) -> str | None:
    """A cell link or an =HYPERLINK formula's URL (`hyperlink`), else a link inserted with
    Ctrl+K (in the text runs)."""
    if cell.get("hyperlink"):
        return cell["hyperlink"]
    for run in cell.get("textFormatRuns") or ():
        uri = ((run.get("format") or {}).get("link") or {}).get("uri")
        if uri:
            return uri
    return None


_WHITE = (255, 255, 255)


def cell_color(cell: dict[str, Any]) -> tuple[int, int, int] | None:
    """The cell's background as 0-255 RGB; None for white (every cell's default)."""
    fmt = cell.get("effectiveFormat")
    if not fmt:
        return None
    rgb = api_color(fmt.get("backgroundColor"))
    return None if rgb == _WHITE else rgb


def grid_rows(block: dict[str, Any], first_row: int) -> list[RawRow]:
    """A full GridData block (values, links, colors) as RawRows; `first_row` is the 0-based
    row asked for (Google omits `startRow` when it is 0). The reference decoding the lean read
    must match, and a reader for a whole-grid answer."""
    start = block.get("startRow", first_row)
    rows = []
    for offset, row in enumerate(block.get("rowData") or ()):
        cells = row.get("values") or ()
        values = [cell_value(cell) for cell in cells]
        while values and values[-1] is None:
            values.pop()
        links, colors = _row_extras(list(cells), 0)
        rows.append(RawRow(start + offset + 1, tuple(values), links, colors))
    return rows
