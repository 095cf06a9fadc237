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
from datetime import date

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
_MONTHS = (
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
)


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


def demo_sheet(
    albums: int = DEMO_ALBUMS, seed: int = 2025
) -> tuple[list[list[object]], dict[tuple[int, int], str]]:
    """(values, links): rows of cells (0-based, ragged) and {(row, column): hyperlink}."""
    rng = random.Random(seed)
    values: list[list[object]] = [["2025 Metal Release Tracker (community maintained)"], [], HEADER]
    links: dict[tuple[int, int], str] = {}
    per_month = albums // 12
    made = 0
    seen: list[list[object]] = []
    for month in range(12):
        values.append([])
        values.append([_MONTHS[month]])
        count = per_month if month < 11 else albums - made
        for index in range(count):
            day = date(2025, month + 1, 1 + (index * 28) // max(1, count))
            artist = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)}"
            title = f"{rng.choice(_TITLE_A)} {rng.choice(_TITLE_B)}"
            if rng.random() < 0.3:
                title += f" {rng.choice(['II', 'III', 'Pt. 1', '(Deluxe)', 'EP'])}"
            row: list[object] = [
                release_cell(rng, day),
                artist,
                title,
                rng.choice(_GENRES),
                rng.choice(_VOCALS),
                rng.choice(_COUNTRIES),
            ]
            spotify = rng.random()
            if spotify < 0.6:
                row.append("Listen")
                links[(len(values), SPOTIFY_COLUMN)] = (
                    f"https://open.spotify.com/album/{_spotify_id(rng)}"
                )
            elif spotify < 0.75:
                row.append(f"https://open.spotify.com/album/{_spotify_id(rng)}?si=demo")
            if rng.random() < 0.05:
                row += [""] * (SPOTIFY_COLUMN + 1 - len(row)) + ["Pre-order"]
            values.append(row)
            seen.append(row)
            made += 1
            if rng.random() < 0.004:  # a row someone started and did not finish
                values.append(
                    [day.isoformat(), "", f"{rng.choice(_TITLE_A)} Untitled", "Doom Metal"]
                )
            if rng.random() < 0.002:
                values.append([day.isoformat(), artist])
            if rng.random() < 0.002 and seen:  # the same album entered twice
                values.append(list(rng.choice(seen)))
    return values, links
