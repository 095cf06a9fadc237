"""Editing a generated tracker tab between syncs, as a person edits the sheet: change a cell,
delete a row (its links and colors go with it), insert a row back."""

from __future__ import annotations

from dataclasses import dataclass

from synccore.demo import TrackerTab, demo_tracker

GENRE_COLUMN = 4  # Artist, Album, Release Date, Length, Genre / Subgenres, ...


def one_year_tracker(albums: int = 30) -> list[TrackerTab]:
    """A '2017' tab shaped like the tracker (stats block, links, colors, announced albums),
    then the Statistics tab a pattern skips."""
    return demo_tracker(
        years=(2017,), albums_per_tab=albums, shared_every=10_000, announced=2, bad_rows=False
    )


def album_rows(tab: TrackerTab) -> list[int]:
    """0-based indexes of the tab's album rows, in sheet order."""
    names = set(tab.albums)
    return [i for i, row in enumerate(tab.values) if len(row) > 1 and tuple(row[:2]) in names]


@dataclass
class DeletedRow:
    values: list[object]
    links: dict[int, str]
    text_run_links: set[int]
    formula_links: set[int]
    backgrounds: dict[int, str]


def copy_row(tab: TrackerTab, r: int) -> DeletedRow:
    """Row `r` with its links and colors, as a person copies it (to insert_row elsewhere)."""
    return DeletedRow(
        list(tab.values[r]),
        {c: u for (row, c), u in tab.links.items() if row == r},
        {c for row, c in tab.text_run_links if row == r},
        {c for row, c in tab.formula_links if row == r},
        {c: u for (row, c), u in tab.backgrounds.items() if row == r},
    )


def delete_row(tab: TrackerTab, r: int) -> DeletedRow:
    """Delete row `r`; cells below move up with their links and colors. Returns the row."""
    gone = copy_row(tab, r)
    del tab.values[r]

    def up(cell: tuple[int, int]) -> tuple[int, int]:
        return (cell[0] - 1, cell[1]) if cell[0] > r else cell

    tab.links = {up(k): v for k, v in tab.links.items() if k[0] != r}
    tab.backgrounds = {up(k): v for k, v in tab.backgrounds.items() if k[0] != r}
    tab.text_run_links = {up(k) for k in tab.text_run_links if k[0] != r}
    tab.formula_links = {up(k) for k in tab.formula_links if k[0] != r}
    return gone


def insert_row(tab: TrackerTab, r: int, row: DeletedRow | list[object]) -> None:
    """Insert a row at `r` (a deleted one comes back with its links and colors)."""

    def down(cell: tuple[int, int]) -> tuple[int, int]:
        return (cell[0] + 1, cell[1]) if cell[0] >= r else cell

    tab.links = {down(k): v for k, v in tab.links.items()}
    tab.backgrounds = {down(k): v for k, v in tab.backgrounds.items()}
    tab.text_run_links = {down(k) for k in tab.text_run_links}
    tab.formula_links = {down(k) for k in tab.formula_links}
    if isinstance(row, DeletedRow):
        tab.values.insert(r, row.values)
        tab.links.update({(r, c): u for c, u in row.links.items()})
        tab.backgrounds.update({(r, c): u for c, u in row.backgrounds.items()})
        tab.text_run_links |= {(r, c) for c in row.text_run_links}
        tab.formula_links |= {(r, c) for c in row.formula_links}
    else:
        tab.values.insert(r, row)
