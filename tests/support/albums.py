"""Sheet rows for tests: a valid album row by number, the header they follow, a CSV sheet."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = ["Release Date", "Artist", "Album", "Genre", "Vocal Style", "Country", "Spotify"]


def write_sheet_csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def album(n: int, **overrides) -> list:
    """A valid sheet row for album number n; override any column by its field name."""
    row = {
        "date": f"2025-03-{(n % 28) + 1:02d}",
        "artist": f"Artist {n}",
        "album": f"Album {n}",
        "genre": ["Death Metal", "Doom", "Post-Rock"][n % 3],
        "vocals": ["Harsh", "Clean", "Mixed"][n % 3],
        "country": ["Sweden", "Finland", "Japan"][n % 3],
        "spotify": "",
    }
    row.update(overrides)
    return [
        row["date"],
        row["artist"],
        row["album"],
        row["genre"],
        row["vocals"],
        row["country"],
        row["spotify"],
    ]
