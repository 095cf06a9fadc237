"""The bundled demo sheet: 3,000 made-up 2025 releases laid out like the community tracker.

It carries the mess real trackers have, so the demo shows what a sync does with it: a title
row above the header, month section rows, blank rows, Spotify links as cell hyperlinks on the
text "Listen" (and some as plain URLs), dates as serial numbers, ISO text, "March 2025", "2025"
and "TBA", rows missing an artist or album, and a few duplicates. Generated from a fixed seed,
so every run of the demo sees the same sheet.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .rows import MONTH_NAMES

DEMO_ALBUMS = 3_000
HEADER = ["Release Date", "Artist", "Album", "Genre", "Vocal Style", "Country", "Spotify", "Notes"]
SPOTIFY_COLUMN = HEADER.index("Spotify")
_EPOCH = date(1899, 12, 30).toordinal()

_FIRST = (
    "Black",
    "Iron",
    "Frost",
    "Ash",
    "Hollow",
    "Crimson",
    "Silent",
    "Grave",
    "Storm",
    "Obsidian",
    "Pale",
    "Wolf",
    "Ember",
    "Night",
    "Void",
    "Thorn",
    "Cinder",
    "Rust",
    "Sól",
    "Mørk",
    "Hexen",
    "Tsuki",
    "Żelazo",
    "Noir",
    "Ghost",
    "Salt",
    "Moon",
    "Stone",
)
_SECOND = (
    "Throne",
    "Harbinger",
    "Cathedral",
    "Serpent",
    "Wake",
    "Monolith",
    "Pyre",
    "Oath",
    "Tide",
    "Reaper",
    "Veil",
    "Sermon",
    "Horizon",
    "Lantern",
    "Choir",
    "Hymn",
    "Abyss",
    "Garden",
    "Circle",
    "Engine",
    "Prophet",
    "Descent",
    "Spire",
    "Forge",
)
_TITLE_A = (
    "Songs of",
    "Beneath the",
    "Return to",
    "Echoes from",
    "The Last",
    "Rites of",
    "Into the",
    "Children of",
    "Ashes of",
    "Where the",
    "Hymns for the",
    "Age of",
)
_TITLE_B = (
    "Winter",
    "Drowned Sun",
    "Northern Sky",
    "Old Gods",
    "Endless Night",
    "Iron Coast",
    "Falling Star",
    "Burning Fields",
    "Silver Moon",
    "Quiet Earth",
    "Black Tide",
    "Forgotten",
    "Cold Light",
    "Seventh Gate",
    "Hollow Crown",
    "Dead Forest",
)
_GENRES = (
    "Death Metal",
    "Black Metal",
    "Doom Metal",
    "Thrash Metal",
    "Heavy Metal",
    "Progressive Metal",
    "Post-Metal",
    "Sludge",
    "Power Metal",
    "Melodic Death Metal",
    "Atmospheric Black Metal",
    "Stoner Rock",
    "Metalcore",
    "Folk Metal",
    "Grindcore",
)
_VOCALS = ("Harsh", "Clean", "Mixed", "Instrumental", "Harsh/Clean")
_COUNTRIES = (
    "Sweden",
    "Finland",
    "Norway",
    "USA",
    "Germany",
    "Japan",
    "Brazil",
    "Poland",
    "Iceland",
    "United Kingdom",
    "Canada",
    "France",
    "Italy",
    "Greece",
    "Chile",
)
_MONTHS = tuple(name.upper() for name in MONTH_NAMES)  # the tracker's section rows


def _spotify_id(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=22))


def release_cell(rng: random.Random, day: date) -> object:
    """A release date written the ways trackers write them, mostly as date cells."""
    roll = rng.random()
    if roll < 0.70:
        return day.toordinal() - _EPOCH  # a date cell: the API sends its serial number
    if roll < 0.82:
        return day.isoformat()
    if roll < 0.92:
        return f"{day:%B} {day.year}"
    if roll < 0.97:
        return str(day.year)
    return "TBA"


# ---------------------------------------------------------------------------------------------
# The release tracker's shape: several year tabs, a statistics block above the header, link
# cells labelled "BC", "S", ... carrying their URL three ways, Length cells colored for debuts
# and reissues, genre lists, locations, and an "Unannounced Projects" section at the bottom.

TRACKER_HEADER = [
    "Artist",
    "Album",
    "Release Date",
    "Length",
    "Genre / Subgenres",
    "Vocal Style",
    "Country / State",
    "Bandcamp",
    "Spotify",
    "YouTube",
    "Amazon",
    "Apple Music",
]
# 2018 and 2019 have a Google Play column after Spotify, moving the links after it.
OLD_TRACKER_HEADER = TRACKER_HEADER[:9] + ["Google Play"] + TRACKER_HEADER[9:]
DEBUT_COLOR, REISSUE_COLOR, REISSUE_SHADE = "#ffba4a", "#96da77", "#93c47d"
LINK_LABELS = {
    "Bandcamp": "BC",
    "Spotify": "S",
    "YouTube": "YT",
    "Amazon": "A",
    "Apple Music": "AM",
    "Google Play": "GP",
}
TRACKER_GENRES = (
    "Progressive metal",
    "Djent",
    "Avant-Garde metal",
    "Harsh Electronic",
    "Atmospheric/Post-Black metal",
    "Technical death metal",
    "Progressive rock",
    "Post-metal",
    "Mathcore",
    "Jazz fusion",
    "Prog-doom",
    "Symphonic metal",
)
ONLY_IN_LISTS = "Harsh Electronic"
TRACKER_LOCATIONS = (
    "Tampa, FL",
    "Québec City, Canada",
    "France",
    "London, UK",
    "Washington, D.C.",
    "International",
    "Austin, Texas",
    "Stockholm, Sweden",
    "Melbourne, Australia",
    "Oslo, Norway",
    "Glasgow, Scotland",
    "Tokyo, Japan",
)
TRACKER_VOCALS = ("Harsh", "Mixed", "Clean", "Instrumental")


@dataclass
class TrackerTab:
    """One tab of a generated tracker, in the fake Sheets API's terms (0-based cells).

    `links` are served as cell hyperlinks, except those in `text_run_links` (a Ctrl+K link)
    and `formula_links` (an =HYPERLINK formula); `backgrounds` are #rrggbb cell colors.
    `albums` is what the tab lists: (artist, title) -> its expected fields, for tests.
    """

    title: str
    values: list[list[object]]
    links: dict[tuple[int, int], str] = field(default_factory=dict)
    text_run_links: set[tuple[int, int]] = field(default_factory=set)
    formula_links: set[tuple[int, int]] = field(default_factory=set)
    backgrounds: dict[tuple[int, int], str] = field(default_factory=dict)
    albums: dict[tuple[str, str], dict] = field(default_factory=dict)
    header_row: int = 6  # 1-based
    announced: int = 0


def tracker_tab_titles(years: tuple[int, ...]) -> list[str]:
    """The tracker's tab names for these years, in sheet order (newest first)."""
    titles: list[str] = []
    for year in years:
        if year >= 2019:
            titles += [f"{year} Prog-metal", f"{year} Prog-rock"]
            if year <= 2020:
                titles.append(f"{year} Reissues & Special Release")
        else:
            titles.append(str(year))
    return titles


def demo_tracker(
    years: tuple[int, ...] = (2025, 2024, 2023),
    albums_per_tab: int = 500,
    seed: int = 2025,
    shared_every: int = 40,
    announced: int = 4,
    bad_rows: bool = True,
) -> list[TrackerTab]:
    """A release tracker with the real sheet's shape (see the section comment), then a
    "Statistics" tab. Every `shared_every`-th album of a Prog-rock tab is also listed in the
    Prog-metal tab of its year (the same album in two tabs, as the real tracker does)."""
    rng = random.Random(seed)
    tabs: list[TrackerTab] = []
    for title in tracker_tab_titles(years):
        year = int(title[:4])
        previous = tabs[-1] if tabs and tabs[-1].title.startswith(str(year)) else None
        tabs.append(
            _tracker_tab(rng, title, year, albums_per_tab, previous, shared_every, announced)
        )
        if bad_rows:
            _add_bad_rows(rng, tabs[-1])
    stats = TrackerTab("Statistics", [["Total releases:", sum(len(t.albums) for t in tabs)]])
    stats.header_row = 0
    tabs.append(stats)
    return tabs


REAL_TRACKER_YEARS = tuple(range(2025, 2016, -1))  # 18 album tabs, as the real tracker has


def keep_links(tab: TrackerTab, services: set[str]) -> TrackerTab:
    """The tab with links (and their labels) only in the link columns of `services`: two or
    three links per album, as most of the real tracker's rows have, instead of four."""
    header = tab.values[tab.header_row - 1] if tab.header_row else []
    dropped = {c for c, name in enumerate(header) if name in LINK_LABELS and name not in services}
    for r, c in [cell for cell in tab.links if cell[1] in dropped]:
        del tab.links[(r, c)]
        tab.values[r][c] = ""
    return tab


def _tracker_tab(
    rng: random.Random,
    title: str,
    year: int,
    count: int,
    previous: TrackerTab | None,
    shared_every: int,
    announced: int,
) -> TrackerTab:
    header = OLD_TRACKER_HEADER if year in (2018, 2019) else TRACKER_HEADER
    header_row = 6 if year >= 2021 else 5
    kind = "Progressive Rock" if "rock" in title else "Progressive Metal"
    block: list[list[object]] = [
        [f"{year} {kind} Albums"],
        ["Releases:", count, "", "LPs:", '=COUNTIF(D:D,"LP")'],
        ["EPs:", '=COUNTIF(D:D,"EP")', "", "Debuts:", "=COUNTDEBUTS()"],
        ["Thanks to our collaborators!", "", "Join us on Discord"],
        [],
    ]
    del block[header_row - 1 :]
    tab = TrackerTab(title, [*block, list[object](header)], header_row=header_row)
    discord = (3, 2)
    tab.links[discord] = "https://discord.gg/progmetal"
    tab.formula_links.add(discord)
    shared = list(previous.albums.items()) if previous else []
    for index in range(count):
        if shared and index % shared_every == 0:
            (artist, album), fields = shared[(index // shared_every) % len(shared)]
            _tracker_row(rng, tab, header, artist, album, fields)
            continue
        artist = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}"
        album = f"{rng.choice(_TITLE_A)} {rng.choice(_TITLE_B)} {year}-{index}"
        _tracker_row(rng, tab, header, artist, album, None, year, index, count)
    tab.values.append([])
    tab.values.append(["Unannounced Projects"])
    for index in range(announced):
        row: list[object] = [f"{rng.choice(_FIRST)} Project {index}", "", "TBA", "LP"]
        row.append(rng.choice(TRACKER_GENRES))
        tab.values.append(row)
        tab.announced += 1
    return tab


def _tracker_row(
    rng: random.Random,
    tab: TrackerTab,
    header: list[str],
    artist: str,
    album: str,
    same_as: dict[str, Any] | None,
    year: int = 2025,
    index: int = 0,
    count: int = 1,
) -> None:
    """One album row; `same_as` repeats an album from another tab with its fields."""
    r = len(tab.values)
    if same_as is None:
        day = date(year, 1, 1) + timedelta(days=(index * 364) // max(1, count))
        genres = rng.sample(TRACKER_GENRES, rng.choice((1, 2, 3)))
        if genres == [ONLY_IN_LISTS]:  # this genre is only ever one of several in a cell
            genres.append("Djent")
        roll = rng.random()
        color = DEBUT_COLOR if roll < 0.18 else REISSUE_COLOR if roll < 0.21 else None
        if color == REISSUE_COLOR and rng.random() < 0.1:
            color = REISSUE_SHADE
        fields: dict[str, Any] = {
            "release": day.toordinal() - _EPOCH if rng.random() < 0.97 else "TBA",
            "length": "EP" if rng.random() < 0.27 else "LP",
            "genres": ", ".join(genres),
            "vocals": rng.choice(TRACKER_VOCALS),
            "location": rng.choice(TRACKER_LOCATIONS),
            "color": color,
            "links": {
                "Bandcamp": f"https://band{r}x{year}.bandcamp.com/album/a{index}",
                "Spotify": f"https://open.spotify.com/album/{_spotify_id(rng)}?si={index:04x}",
                "YouTube": f"https://www.youtube.com/playlist?list=PL{year}{index}",
                "Amazon": f"https://www.amazon.com/dp/B0{year}{index:05d}",
                "Apple Music": f"https://music.apple.com/us/album/{year}{index}",
                "Google Play": f"https://play.google.com/store/music/album?id=B{year}{index}",
            },
        }
        for service in list(fields["links"]):
            if service != "Spotify" and rng.random() < 0.25:
                del fields["links"][service]
    else:
        fields = same_as
    row: list[object] = [
        artist,
        album,
        fields["release"],
        fields["length"],
        fields["genres"],
        fields["vocals"],
        fields["location"],
    ]
    for column in range(len(row), len(header)):
        service = header[column]
        url = fields["links"].get(service)
        row.append(LINK_LABELS[service] if url else "")
        if url:
            tab.links[(r, column)] = url
            way = (r + column) % 3
            if way == 1:
                tab.text_run_links.add((r, column))
            elif way == 2:
                tab.formula_links.add((r, column))
    if fields["color"]:
        tab.backgrounds[(r, 3)] = fields["color"]
    tab.values.append(row)
    tab.albums.setdefault((artist, album), fields)


def _add_bad_rows(rng: random.Random, tab: TrackerTab) -> None:
    """A title without an artist: a row error the demo shows."""
    at = tab.header_row + 3
    tab.values.insert(at, ["", f"{rng.choice(_TITLE_A)} Untitled", 45700, "LP", "Djent"])
    _shift(tab, at)


def _shift(tab: TrackerTab, at: int) -> None:
    """Move links and colors at or below row `at` one row down (a row was inserted)."""

    def moved(cells):
        return {((r + 1, c) if r >= at else (r, c)) for r, c in cells}

    tab.links = {((r + 1, c) if r >= at else (r, c)): u for (r, c), u in tab.links.items()}
    tab.backgrounds = {
        ((r + 1, c) if r >= at else (r, c)): u for (r, c), u in tab.backgrounds.items()
    }
    tab.text_run_links = moved(tab.text_run_links)
    tab.formula_links = moved(tab.formula_links)


def tracker_worksheets(tabs: list[TrackerTab]):
    """The generated tabs as the fake Sheets API's worksheets (gids 0, 101, 102, ...)."""
    from .standin import FakeWorksheet

    return [
        FakeWorksheet(
            tab.title,
            0 if i == 0 else 100 + i,
            tab.values,
            tab.links,
            tab.text_run_links,
            formula_links=tab.formula_links,
            backgrounds=tab.backgrounds,
        )
        for i, tab in enumerate(tabs)
    ]
