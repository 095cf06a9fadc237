"""Benchmark sheets in the real tracker's shape, pre-rendered as the Sheets API's JSON.

A bench sheet is `synccore.demo`'s tracker scaled up: the album tabs from 2025 back to 2020
(Prog-metal and Prog-rock for each year, a Reissues tab for 2020: 13 tabs) and a Statistics
tab. Each album tab has its statistics block above the header, 12 columns (Artist, Album,
Release Date, Length, Genre / Subgenres, Vocal Style, Country / State and the link columns),
genre lists, locations, two or three links per album carried as cell links, Ctrl+K links and
`=HYPERLINK` formulas, colored Length cells for debuts and reissues, a bad row, an
"Unannounced Projects" section, and empty rows and columns past the data. Every 40th
Prog-rock album is also listed in its year's Prog-metal tab, as the real tracker does.

`edit_share` adds a genre to that share of the albums listed in one tab only (chosen by a
separate random stream, so every other cell is the same as in the unedited sheet): the
"1% edited" scenario.
"""

from __future__ import annotations

import fnmatch
import json
import math
import random
from collections import Counter
from dataclasses import dataclass

from synccore.demo import (
    TrackerTab,
    demo_tracker,
    keep_links,
    tracker_tab_titles,
    tracker_worksheets,
)
from synccore.sources.answers import GRID_PARAMS
from synccore.standin import FakeWorksheet
from synccore.standin.masks import apply_field_mask, parse_field_mask
from synccore.standin.workbook import cell_data

BENCH_YEARS = (2025, 2024, 2023, 2022, 2021, 2020)
ALBUM_TABS = "*Prog-*,*Reissues*,20??"  # SYNCCORE_WORKSHEET: the album tabs (not Statistics)
LINK_SERVICES = {"Bandcamp", "Spotify", "Apple Music"}  # two or three links per album
GENRE_COLUMN = 4  # "Genre / Subgenres"
EDIT_GENRE = "Zeuhl"  # added to an edited album's genre list (no tracker album has it)
GRID_COLUMNS = 26  # a new Google sheet's width: empty columns past the data
GRID_SPARE_ROWS = 60  # and empty rows past it


@dataclass(frozen=True)
class SheetSpec:
    albums: int
    seed: int = 2025
    edit_share: float = 0.0

    @property
    def key(self) -> str:
        """A spreadsheet key the settings accept (20+ url-safe characters)."""
        edit = f"-edit{int(self.edit_share * 10_000):04d}" if self.edit_share else ""
        return f"bench-sheet-{self.albums:08d}-s{self.seed}{edit}"


def tracker_sheet(spec: SheetSpec) -> tuple[list[FakeWorksheet], int, int]:
    """(worksheets, distinct albums, albums edited) of a bench sheet of about `spec.albums`
    album rows."""
    per_tab = math.ceil(spec.albums / len(tracker_tab_titles(BENCH_YEARS)))
    tabs = [
        keep_links(tab, LINK_SERVICES)
        for tab in demo_tracker(years=BENCH_YEARS, albums_per_tab=per_tab, seed=spec.seed)
    ]
    edited = _edit_genres(tabs, spec) if spec.edit_share else 0
    albums = len({key for tab in tabs for key in tab.albums})
    return bench_worksheets(tabs), albums, edited


def bench_worksheets(tabs: list[TrackerTab]) -> list[FakeWorksheet]:
    """The tabs as the stand-in's worksheets, with a real sheet's empty rows and columns past
    the data."""
    sheets = tracker_worksheets(tabs)
    for sheet in sheets:
        sheet.row_count = len(sheet.values) + GRID_SPARE_ROWS
        sheet.column_count = GRID_COLUMNS
    return sheets


def album_tab(title: str) -> bool:
    return any(fnmatch.fnmatchcase(title, pattern) for pattern in ALBUM_TABS.split(","))


def _album_rows(tab: TrackerTab) -> list[int]:
    """The rows of the tab's album list (after the header, before "Unannounced Projects")."""
    rows = []
    for r in range(tab.header_row, len(tab.values)):
        row = tab.values[r]
        if not row:
            break  # the blank row above "Unannounced Projects"
        if len(row) > GENRE_COLUMN and row[0] and row[1]:
            rows.append(r)
    return rows


def _edit_genres(tabs: list[TrackerTab], spec: SheetSpec) -> int:
    """Add a genre to `spec.edit_share` of the albums listed in one tab only; return how many."""
    edits = random.Random(spec.seed + 1)
    listed = Counter(
        (str(tab.values[r][0]), str(tab.values[r][1])) for tab in tabs for r in _album_rows(tab)
    )
    edited = 0
    for tab in tabs:
        for r in _album_rows(tab):
            row = tab.values[r]
            if listed[(str(row[0]), str(row[1]))] == 1 and edits.random() < spec.edit_share:
                row[GENRE_COLUMN] = f"{row[GENRE_COLUMN]}, {EDIT_GENRE}"
                edited += 1
    return edited


# -- the JSON the stand-in would send for these cells ----------------------------------------


EMPTY_VALUES = b"[]"
EMPTY_CELL = b"{}"
# The masked CellData fields the lean read asks for (links and colors).
_GRID_MASK: dict = parse_field_mask(GRID_PARAMS["fields"]) or {}
_CELL_MASK = _GRID_MASK["sheets"]["data"]["rowData"]["values"]


def _unformatted(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def render_values(values: list[object]) -> bytes:
    """One row as `values.batchGet` sends it (UNFORMATTED_VALUE): a JSON array, empty cells in
    the middle as "", trailing empty cells dropped."""
    cells = [_unformatted(v) for v in values]
    while cells and cells[-1] == "":
        cells.pop()
    return json.dumps(cells, separators=(",", ":")).encode() if cells else EMPTY_VALUES


@dataclass
class RenderedTab:
    """One tab as the stand-in's JSON: each row's values, and for rows with links or colors
    each cell's masked CellData (b"{}" where a cell has neither)."""

    title: str
    sheet_id: int
    values: list[bytes]
    grid: dict[int, list[bytes]]
    data_columns: int  # the widest row of values
    rows: int  # the grid's size, as the metadata gives it
    columns: int


@dataclass
class RenderedSheet:
    tabs: list[RenderedTab]
    albums: int
    edited: int

    @property
    def rows(self) -> int:
        return sum(len(tab.values) for tab in self.tabs)


def render_tab(sheet: FakeWorksheet) -> RenderedTab:
    grid: dict[int, list[bytes]] = {}
    for r, c in sorted({*sheet.links, *sheet.backgrounds}):
        cell = apply_field_mask(cell_data(sheet, r, c), _CELL_MASK)
        if cell:
            cells = grid.setdefault(r, [])
            cells.extend([EMPTY_CELL] * (c + 1 - len(cells)))
            cells[c] = json.dumps(cell, separators=(",", ":")).encode()
    return RenderedTab(
        sheet.title,
        sheet.sheet_id,
        [render_values(row) for row in sheet.values],
        grid,
        max([len(row) for row in sheet.values] + [1]),
        sheet.grid_rows,
        sheet.grid_columns,
    )


def render_sheet(spec: SheetSpec) -> tuple[RenderedSheet, list[FakeWorksheet]]:
    """The rendered sheet, and the worksheets it was rendered from (for checking samples)."""
    sheets, albums, edited = tracker_sheet(spec)
    return RenderedSheet([render_tab(s) for s in sheets], albums, edited), sheets
