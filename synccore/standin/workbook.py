"""The stand-in's data: spreadsheets, worksheets and how one cell renders as CellData."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import JSON


@dataclass
class FakeWorksheet:
    """One worksheet (tab). `values` is row-major and 0-based; None or "" is an empty cell.

    A link in `links` is returned as the cell's `hyperlink` field, unless the cell is in
    `text_run_links`: then it is only in `textFormatRuns[].format.link.uri`, which is where
    modern Sheets keeps a link inserted with Ctrl+K. A cell in `formula_links` is an
    `=HYPERLINK(url, label)` formula: its label is the value and the URL its `hyperlink`.
    `backgrounds` ("#rrggbb") are served as `effectiveFormat.backgroundColor` when the fields
    mask asks for it. `row_count`/`column_count` set the grid size (default: just big enough
    for `values`), as a real sheet has empty rows at the end.
    """

    title: str
    sheet_id: int
    values: list[list[Any]]
    links: dict[tuple[int, int], str] = field(default_factory=dict)
    text_run_links: set[tuple[int, int]] = field(default_factory=set)
    row_count: int | None = None
    column_count: int | None = None
    formula_links: set[tuple[int, int]] = field(default_factory=set)
    backgrounds: dict[tuple[int, int], str] = field(default_factory=dict)

    @property
    def grid_rows(self) -> int:
        used = max([len(self.values)] + [r + 1 for r, _ in (*self.links, *self.backgrounds)])
        return max(self.row_count or 0, used, 1)

    @property
    def grid_columns(self) -> int:
        cells = (*self.links, *self.backgrounds)
        used = max([len(row) for row in self.values] + [c + 1 for _, c in cells] + [1])
        return max(self.column_count or 0, used)

    def cell(self, row: int, col: int) -> Any:
        if row < len(self.values) and col < len(self.values[row]):
            value = self.values[row][col]
            return None if value == "" else value
        return None


@dataclass
class Spreadsheet:
    key: str
    title: str
    worksheets: list[FakeWorksheet]
    shared_with: set[str] | None
    public: bool
    modified_time: str = "2026-01-01T00:00:00.000Z"  # Drive's modifiedTime (RFC 3339, UTC)


def unformatted(value: Any) -> Any:
    """A cell as UNFORMATTED_VALUE gives it: integral floats come back as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def formatted(value: Any) -> str:
    """A plain FORMATTED_VALUE rendering (no number formats in the fake)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(unformatted(value))


def extended_value(value: Any) -> JSON:
    """A cell's ExtendedValue: stringValue, numberValue or boolValue."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": unformatted(value)}
    return {"stringValue": str(value)}


def api_color(hex_color: str) -> JSON:
    """ "#96da77" as a Sheets API Color: channels 0-1, a channel that is 0 omitted."""
    value = int(hex_color.lstrip("#"), 16)
    channels = {"red": value >> 16, "green": (value >> 8) & 0xFF, "blue": value & 0xFF}
    return {name: c / 255 for name, c in channels.items() if c}


def cell_data(sheet: FakeWorksheet, row: int, col: int) -> JSON:
    """The CellData Google returns for one cell; {} for an empty cell without a link."""
    value, link = sheet.cell(row, col), sheet.links.get((row, col))
    cell: JSON = {}
    if value is not None:
        cell["userEnteredValue"] = extended_value(value)
        cell["effectiveValue"] = extended_value(value)
        cell["formattedValue"] = formatted(value)
    if link and (row, col) in sheet.formula_links:
        label = "" if value is None else formatted(value).replace('"', '""')
        cell["userEnteredValue"] = {"formulaValue": f'=HYPERLINK("{link}", "{label}")'}
        cell["hyperlink"] = link
    elif link and (row, col) in sheet.text_run_links:
        cell["textFormatRuns"] = [{"format": {"link": {"uri": link}}}]
    elif link:
        cell["hyperlink"] = link
    color = sheet.backgrounds.get((row, col))
    if color:
        cell["effectiveFormat"] = {"backgroundColor": api_color(color)}
    return cell


def trim_trailing(items: list[Any], is_empty) -> list[Any]:
    """Drop trailing empty items, as Google does with rows and cells."""
    end = len(items)
    while end and is_empty(items[end - 1]):
        end -= 1
    return items[:end]


def is_empty_value(value: Any) -> bool:
    return value is None or value == ""
