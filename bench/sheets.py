"""Realistic benchmark sheets, and their cells pre-rendered as the Sheets API's JSON.

A sheet looks like the community tracker (synccore.demo, scaled up): a title row, the 8-column
header, month section rows, blank rows, Spotify links as "Listen" hyperlinks (60%) or plain
URLs (15%) or missing, dates as serial numbers, ISO text, "March 2025", "2025" or "TBA", and a
few bad rows (no artist, no album, a duplicate). Album titles carry a number so keys stay
unique at a million rows; artists repeat (about four albums each), as they do in a tracker.

`edit_share` changes the genre of that share of albums (chosen by a separate random stream, so
every other cell is the same as in the unedited sheet): the "1% edited" scenario.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from synccore.demo import (
    _COUNTRIES,
    _FIRST,
    _GENRES,
    _MONTHS,
    _SECOND,
    _TITLE_A,
    _TITLE_B,
    _VOCALS,
    HEADER,
    SPOTIFY_COLUMN,
    release_cell,
)

_ID_CHARS = string.ascii_letters + string.digits
SECTION_EVERY = 2_000  # albums between section ("MARCH") rows, each preceded by a blank row
BAD_ROW_SHARE = 0.003


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


def sheet_rows(
    spec: SheetSpec, edited: list[int] | None = None
) -> Iterator[tuple[list[object], str | None]]:
    """(cells, Spotify hyperlink or None) for every sheet row, top to bottom; the numbers of
    the albums whose genre was edited are appended to `edited`."""
    rng = random.Random(spec.seed)
    edits = random.Random(spec.seed + 1)
    yield ["Metal Release Tracker (community maintained)"], None
    yield [], None
    yield list(HEADER), None
    artists = [
        (f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {i}", rng.choice(_COUNTRIES))
        for i in range(max(1, spec.albums // 4))
    ]
    start = date(2000, 1, 1)
    previous: list[object] | None = None
    for i in range(spec.albums):
        day = start + timedelta(days=i * 9000 // max(1, spec.albums))
        if i % SECTION_EVERY == 0:
            yield [], None
            yield [f"{_MONTHS[day.month - 1]} {day.year}"], None
        artist, country = rng.choice(artists)
        title = f"{rng.choice(_TITLE_A)} {rng.choice(_TITLE_B)} {i}"
        genre = rng.choice(_GENRES)
        if spec.edit_share and edits.random() < spec.edit_share:
            genre = _GENRES[(_GENRES.index(genre) + 1) % len(_GENRES)]
            if edited is not None:
                edited.append(i)
        row: list[object] = [
            release_cell(rng, day),
            artist,
            title,
            genre,
            rng.choice(_VOCALS),
            country,
        ]
        link = None
        spotify = rng.random()
        if spotify < 0.6:
            row.append("Listen")
            link = "https://open.spotify.com/album/" + "".join(rng.choices(_ID_CHARS, k=22))
        elif spotify < 0.75:
            row.append(
                "https://open.spotify.com/album/"
                + "".join(rng.choices(_ID_CHARS, k=22))
                + "?si=bench"
            )
        if rng.random() < 0.05:
            row += [""] * (SPOTIFY_COLUMN + 1 - len(row)) + ["Pre-order"]
        yield row, link
        bad = rng.random()
        if bad < BAD_ROW_SHARE / 3:
            yield [day.isoformat(), "", f"{rng.choice(_TITLE_A)} Untitled"], None  # no artist
        elif bad < 2 * BAD_ROW_SHARE / 3:
            yield [day.isoformat(), artist], None  # no album
        elif bad < BAD_ROW_SHARE and previous is not None:
            yield list(previous), None  # the same album entered twice (the later row wins)
        previous = row


# -- the JSON the stand-in would send for these cells ----------------------------------------


EMPTY_VALUES = b"[]"


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
class RenderedSheet:
    """A bench sheet as the stand-in's JSON: each row's values, and the Spotify column's
    hyperlink cell where it has one (the sheet's only links; no colors)."""

    values: list[bytes]
    links: dict[int, bytes]
    columns: int
    edited: int


def render_sheet(spec: SheetSpec) -> RenderedSheet:
    values: list[bytes] = []
    links: dict[int, bytes] = {}
    columns, edited = 1, list[int]()
    for index, (cells, link) in enumerate(sheet_rows(spec, edited)):
        values.append(render_values(cells))
        if link:
            links[index] = json.dumps({"hyperlink": link}, separators=(",", ":")).encode()
        columns = max(columns, len(cells))
    return RenderedSheet(values, links, columns, len(edited))
