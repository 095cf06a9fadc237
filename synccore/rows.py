"""Pure row processing: find the header, turn sheet cells into albums, keys and content hashes.

No I/O and no database here, so every rule can be tested with plain values. `parse_row` runs
once per sheet row (up to ~1.25 million per sync): everything that can be built once (regexes,
alias tables, month names) is built at import, pure work on cells a tracker repeats (dates,
genre lists, vocal styles) is memoised, and the common path does no work for rare cases.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from hashlib import blake2b
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .colorflags import color_flag, color_legend
from .errors import ConfigurationError, HeaderNotFound
from .locations import country_of, normalize_mappings
from .sources.base import RawRow

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper

LINK_SERVICES = ("spotify", "bandcamp", "youtube", "amazon", "apple_music", "google_play")
FIELDS = (
    "release_date",
    "artist",
    "album",
    "genre",
    "vocal_style",
    "location",
    "album_type",
    *LINK_SERVICES,
)
# Optional columns whose absence a sync reports (the other link services are extras: most
# tabs of the tracker have no Google Play column, and saying so every time would be noise).
REPORTED_FIELDS = ("release_date", "genre", "vocal_style", "location", "album_type", "spotify")

NAME_LENGTH = 500  # the longest name, key or facet the catalog stores (its column size)
LOCATION_LENGTH = 200  # albums.location
ALBUM_TYPE_LENGTH = 100  # albums.album_type
RELEASE_TEXT_LENGTH = 200  # albums.release_text
URL_LENGTH = 1000  # albums.spotify_url and each link
SERVICE_LENGTH = 40  # a link's service name, from its column header
ERROR_VALUE_LENGTH = 500
# An album key (artist + album name) must fit PostgreSQL's btree index entry (2,704 bytes):
# 500 four-byte characters each would not, and would fail the whole batch.
MAX_KEY_BYTES = 2_600
ERROR_VALUE_COUNT = 50  # a row can be 18,000 cells wide; keep what a person can read
# A failed row's cells are stored with the error: at most this many characters in all (200
# wide cells once stored 25 KB per row and 123 MB per sync), the cut marked with TRUNCATED.
ERROR_VALUES_TOTAL = 2_000
TRUNCATED = "…[truncated]"

FIELD_LABELS = {  # a field's header in the tracker, and its name on pages
    "release_date": "Release Date",
    "artist": "Artist",
    "album": "Album",
    "genre": "Genre",
    "vocal_style": "Vocal Style",
    "location": "Country / State",
    "album_type": "Length",
    "spotify": "Spotify",
    "bandcamp": "Bandcamp",
    "youtube": "YouTube",
    "amazon": "Amazon",
    "apple_music": "Apple Music",
    "google_play": "Google Play",
}
# Words a configured alias may use for a field besides its own name and label.
_FIELD_WORDS = {
    "country": "location",
    "genres": "genre",
    "type": "album_type",
    "length": "album_type",
}


# ---------------------------------------------------------------------------------------------
# Header


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """0-based column index of each field; only artist and album are required.

    `other_links` are the columns no field claims, by a service name made from their header
    ("Deezer" -> "deezer"): a URL or hyperlink in one of them is kept as a link too.
    """

    artist: int
    album: int
    release_date: int | None = None
    genre: int | None = None
    vocal_style: int | None = None
    location: int | None = None
    album_type: int | None = None
    spotify: int | None = None
    bandcamp: int | None = None
    youtube: int | None = None
    amazon: int | None = None
    apple_music: int | None = None
    google_play: int | None = None
    other_links: tuple[tuple[int, str], ...] = ()

    # (column, service) of every link column, known services first: worked out once here,
    # since every row of the sheet asks.
    links: tuple[tuple[int, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        known = tuple(
            (column, service)
            for service in LINK_SERVICES
            if (column := getattr(self, service)) is not None
        )
        object.__setattr__(self, "links", known + self.other_links)

    def missing(self) -> list[str]:
        """The reported optional fields this tab has no column for."""
        return [f for f in REPORTED_FIELDS if getattr(self, f) is None]


# Built-in header names, by field. Priority 1 names are unmistakable; priority 2 ones are
# generic words ("Title", "Link") that lose to a priority 1 column for the same field.
_BUILTIN_ALIASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "release_date": (
        ("Release Date", "Released", "Released On", "Date Released", "Release Day", "Drop Date"),
        ("Date", "When"),
    ),
    "artist": (
        (
            "Artist",
            "Artists",
            "Artist(s)",
            "Artist Name",
            "Band",
            "Band Name",
            "Artist/Band",
            "Band/Artist",
            "Performer",
        ),
        ("Name", "By"),
    ),
    "album": (
        (
            "Album",
            "Albums",
            "Album Name",
            "Album Title",
            "Album/EP",
            "Record",
            "Release Name",
            "Release Title",
        ),
        ("Title", "Release", "EP"),
    ),
    "genre": (
        (
            "Genre",
            "Genres",
            "Genre(s)",
            "Subgenre",
            "Sub-genre",
            "Subgenres",
            "Genre / Subgenres",
            "Genre / Subgenre",
            "Genres / Subgenres",
        ),
        ("Style", "Styles"),
    ),
    "vocal_style": (
        ("Vocal Style", "Vocal Styles", "Vocals", "Vocal Type", "Vocal", "Singing Style"),
        ("Voice",),
    ),
    "location": (
        (
            "Country / State",
            "Country/State",
            "State / Country",
            "City / Country",
            "Country",
            "Countries",
            "Country of Origin",
            "Origin",
            "Country/Region",
            "Nation",
            "Location",
            "Hometown",
        ),
        ("From", "Where"),
    ),
    "album_type": (
        ("Length", "Album Type", "Release Type", "LP/EP", "EP/LP"),
        ("Type", "Format"),
    ),
    "spotify": (
        ("Spotify", "Spotify Link", "Spotify URL", "Spotify Album", "Listen on Spotify"),
        ("Link", "Links", "Listen", "URL", "Stream"),
    ),
    "bandcamp": (("Bandcamp", "Bandcamp Link", "Bandcamp URL"), ("BC",)),
    "youtube": (("YouTube", "YouTube Link", "YouTube Music", "YT Music"), ("YT",)),
    "amazon": (("Amazon", "Amazon Music", "Amazon Link"), ()),
    "apple_music": (("Apple Music", "iTunes", "Apple Music Link"), ("Apple", "AM")),
    "google_play": (("Google Play", "Google Play Music", "Play Music"), ("GP",)),
}

_NOT_WORD = re.compile(r"[\W_]+")


def _header_token(value: Any) -> str:
    """Header text reduced to letters and digits, so "Artist(s)", "ARTIST S" and "artists" meet."""
    text = value if isinstance(value, str) else str(value)
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).casefold())


_BUILTIN_TABLE: dict[str, tuple[int, str]] = {
    _header_token(name): (priority, field)
    for field, groups in _BUILTIN_ALIASES.items()
    for priority, names in enumerate(groups, start=1)
    for name in names
}
_FIELD_TOKENS = (
    {_header_token(f): f for f in FIELDS}
    | {_header_token(v): f for f, v in FIELD_LABELS.items()}
    | {_header_token(w): f for w, f in _FIELD_WORDS.items()}
)


def _alias_table(aliases: Mapping[str, str] | None) -> dict[str, tuple[int, str]]:
    """The built-in names plus configured ones (priority 0, so they win)."""
    table = dict(_BUILTIN_TABLE)
    for header, target in (aliases or {}).items():
        known = _FIELD_TOKENS.get(_header_token(target))
        if known is None:
            raise ConfigurationError(
                f'The header alias "{header}" points to "{target}", which is not a column '
                f"Catalog Sync knows. Use one of: {', '.join(FIELDS)}."
            )
        table[_header_token(header)] = (0, known)
    return table


def _match_header(values: Sequence[Any], table: Mapping[str, tuple[int, str]]) -> dict[str, int]:
    """Field -> column for one candidate row; the best-priority, then leftmost, column wins."""
    best: dict[str, tuple[int, int]] = {}
    for column, cell in enumerate(values):
        if cell is None or cell == "":
            continue
        hit = table.get(_header_token(cell))
        if hit is None:
            continue
        priority, field = hit
        if field not in best or priority < best[field][0]:
            best[field] = (priority, column)
    return {field: column for field, (_, column) in best.items()}


_SERVICE = re.compile(r"[^a-z0-9]+")


def _other_links(values: Sequence[Any], claimed: Iterable[int]) -> tuple[tuple[int, str], ...]:
    """Header columns no field claims, as (column, service name): "Deezer Link" -> "deezer_link".
    Their cells count as links only where they hold a hyperlink or a URL."""
    taken, names = set(claimed), set(LINK_SERVICES)
    found = []
    for column, cell in enumerate(values):
        if column in taken or cell is None or cell == "":
            continue
        name = _SERVICE.sub("_", unicodedata.normalize("NFKC", _cell_text(cell)).casefold())
        name = name.strip("_")[:SERVICE_LENGTH]
        if name and name not in names:
            names.add(name)
            found.append((column, name))
    return tuple(found)


HEADER_SCAN_ROWS = 15  # the header is looked for in a tab's first rows (those it returned)


def find_header(
    rows: Sequence[RawRow], aliases: Mapping[str, str] | None = None, scan: int = HEADER_SCAN_ROWS
) -> tuple[ColumnMap, int]:
    """The column map and the index (in `rows`) of the first row naming Artist and Album.

    Title rows above the header are passed over. Configured `aliases` (sheet header -> field)
    win over the built-in names. Raises HeaderNotFound describing what the sheet held instead.
    """
    table = _alias_table(aliases)
    candidates = list(islice(rows, scan))
    closest: tuple[int, RawRow, dict[str, int]] | None = None
    for index, raw in enumerate(candidates):
        found = _match_header(raw.values, table)
        if "artist" in found and "album" in found:
            others = _other_links(raw.values, found.values())
            return ColumnMap(**cast(dict[str, Any], found), other_links=others), index
        if found and (closest is None or len(found) > len(closest[2])):
            closest = (index, raw, found)
    raise HeaderNotFound(_header_problem(candidates, closest, scan))


_DRIFT = {
    "release_date": ("release date", "release dates will be unknown"),
    "genre": ("genre", "genres will be empty"),
    "vocal_style": ("vocal style", "vocal styles will be empty"),
    "location": ("country / state", "locations and countries will be empty"),
    "album_type": ("length (LP / EP)", "album types and debut / reissue flags will be empty"),
    "spotify": ("Spotify", "Spotify links will be empty"),
}


def drift_warnings(columns: ColumnMap, header: Sequence[Any], worksheet: str) -> list[str]:
    """One warning per reported field the tab has no column for, naming the columns it has,
    so a renamed header never leaves a field silently empty."""
    missing = columns.missing()
    if not missing:
        return []
    seen = ", ".join(_shorten(t, 40) for v in header[:30] if (t := _cell_text(v))) or "none"
    return [
        f"No {_DRIFT[f][0]} column in '{worksheet}' (columns seen: {seen}): {_DRIFT[f][1]}. "
        "Rename the column or map it in SYNCCORE_HEADER_ALIASES."
        for f in missing
    ]


def _header_problem(
    candidates: list[RawRow], closest: tuple[int, RawRow, dict[str, int]] | None, scan: int
) -> str:
    message = (
        f"Could not find the header row in the first {scan} rows of the sheet. Catalog Sync "
        'needs an "Artist" column (or "Band", "Artist Name") and an "Album" column (or '
        '"Album Name", "Title"); "Release Date", "Length", "Genre / Subgenres", "Vocal Style", '
        '"Country / State" and the link columns ("Spotify", "Bandcamp", ...) are optional.'
    )
    if closest is not None:
        _, raw, found = closest
        have = ", ".join(FIELD_LABELS[f] for f in FIELDS if f in found)
        missing = " and ".join(FIELD_LABELS[f] for f in ("artist", "album") if f not in found)
        message += f" Row {raw.number} looks closest: it has {have} but no {missing} column."
    shown = [raw for raw in candidates if any(_cell_text(v) for v in raw.values)][:5]
    if shown:
        lines = "; ".join(
            f"row {raw.number}: "
            + ", ".join(f'"{_shorten(_cell_text(v), 40)}"' for v in raw.values[:8])
            + (", ..." if len(raw.values) > 8 else "")
            for raw in shown
        )
        message += f" The first rows contain: {lines}."
    else:
        message += " The first rows are empty."
    return message + (
        " Rename the columns in the sheet, or map your column names in the header aliases "
        'setting (SYNCCORE_HEADER_ALIASES, e.g. {"Band name": "artist"}).'
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Cells and names

_UNSAFE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: PostgreSQL/UTF-8 refuse them


def _cell_text(value: Any) -> str:
    """A cell as trimmed text: numbers without a spurious ".0", booleans as Sheets shows them."""
    if value.__class__ is str:
        text = value
    elif value is None:
        return ""
    elif value is True or value is False:
        return "TRUE" if value else "FALSE"
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    else:
        text = str(value)
    if "\x00" in text or (not text.isascii() and _UNSAFE.search(text)):
        text = _UNSAFE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)
    return text.strip()


def normalize_name(text: str) -> str:
    """The comparison form of a name: NFKC, case-folded, inner whitespace collapsed, trimmed."""
    if text.isascii():  # ASCII is already NFKC; skip the two normalizations on the hot path
        return " ".join(text.casefold().split())
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(folded.split())


_T = TypeVar("_T")
# Cells longer than this are worked out each time: long texts rarely repeat, and would make
# the memos below hold megabytes.
MEMO_TEXT_LENGTH = 200


def _by_cell(memo: _lru_cache_wrapper[_T], value: Any) -> _T:
    """`memo(value)` for a pure function of one cell, memoised with lru_cache (bounded, and
    safe under threads): a tracker repeats its dates, genre lists and vocal styles thousands
    of times. `typed=True` memos keep 1, 1.0 and True apart. Long texts and unhashable values
    (not something a sheet sends, but never raise) bypass the memo."""
    if value.__class__ is str and len(value) > MEMO_TEXT_LENGTH:
        return memo.__wrapped__(value)
    try:
        return memo(value)
    except TypeError:
        return memo.__wrapped__(value)


def album_key(spotify_id: str | None, artist_key: str, title_key: str) -> str:
    """The album's identity: its Spotify id when known, else its artist and title in
    `normalize_name`'s form (the caller has them already)."""
    if spotify_id:
        return "spotify:" + spotify_id
    return "name:" + artist_key + "\x1f" + title_key


_SPOTIFY_ALBUM = re.compile(
    r"(?:https?://)?(?:open|play)\.spotify\.com/(?:intl-[a-z]{2}(?:-[a-z0-9]+)?/)?(?:embed/)?"
    r"album/([0-9A-Za-z]{22})(?:[/?#]|$)"
    r"|spotify:album:([0-9A-Za-z]{22})$",
    re.IGNORECASE,
)


def spotify_album_id(value: str | None) -> str | None:
    """The 22-character album id from an album URL or URI; None for anything else."""
    if not value or not isinstance(value, str):
        return None
    match = _SPOTIFY_ALBUM.match(value.strip())
    if match is None:
        return None
    return match.group(1) or match.group(2)


def _looks_like_url(text: str) -> bool:
    return text.startswith(("http://", "https://", "open.spotify.com/", "spotify:")) or (
        text[:8].lower().startswith(("http://", "https://", "spotify:"))
    )


# ---------------------------------------------------------------------------------------------
# Release dates

DAY, MONTH, YEAR, UNKNOWN = "day", "month", "year", "unknown"
MONTH_NAMES = (
    "January February March April May June July August September October November December"
).split()
MIN_YEAR, MAX_YEAR = 1900, 2199
_EPOCH = date(1899, 12, 30).toordinal()  # Sheets' serial day 0
_MIN_SERIAL = MAX_YEAR + 1  # integers 1900..2199 are years, not 1905/1906 dates
_MAX_SERIAL = date(MAX_YEAR, 12, 31).toordinal() - _EPOCH


@dataclass(frozen=True, slots=True)
class ReleaseDate:
    """A release date as precise as the sheet knew it; `text` is the cell as written."""

    year: int | None
    month: int | None
    day: int | None
    precision: str  # "day" | "month" | "year" | "unknown"
    text: str

    @property
    def sort_key(self) -> str:
        """ "2025-03-14", "2025-03-00", "2025-00-00"; unknown dates sort first ("0000-00-00")."""
        return f"{self.year or 0:04d}-{self.month or 0:02d}-{self.day or 0:02d}"

    @property
    def display(self) -> str:
        """What a person reads: "2025-03-14", "March 2025", "2025", or the text ("TBA" if none).

        Judged by the parts present, not `precision`: rows stored by older releases may have a
        precision without the parts (the catalog shows stored dates through this too)."""
        year, month, day = self.year, self.month, self.day
        if year and month and day:
            return f"{year:04d}-{month:02d}-{day:02d}"
        if year and month:
            return f"{MONTH_NAMES[month - 1]} {year}"
        if year:
            return str(year)
        return self.text or "TBA"


_MONTH_WORD = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MONTH_NUMBER = {name[:3].lower(): number for number, name in enumerate(MONTH_NAMES, start=1)}
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_SEP = r"[\s,./-]+"

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2})(?:[t\s].*)?)?$")
_NUMERIC_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})$")
_NUMERIC_MY = re.compile(r"(\d{1,2})[-/.](\d{4})$")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})$")
_SERIAL_TEXT = re.compile(r"\d{5}(?:\.\d*)?$")  # a serial that lost its type (CSV)
_YEAR_ONLY = re.compile(r"(\d{4})$")
_NAME_MDY = re.compile(_WEEKDAY + _MONTH_WORD + r"\s*(\d{1,2})" + _ORDINAL + _SEP + r"(\d{4})$")
_NAME_DMY = re.compile(
    _WEEKDAY + r"(\d{1,2})" + _ORDINAL + r"(?:\s+of)?[\s./-]*" + _MONTH_WORD + _SEP + r"(\d{4})$"
)
_NAME_MY = re.compile(_MONTH_WORD + _SEP + r"(\d{4})$")
_NAME_YM = re.compile(r"(\d{4})" + _SEP + _MONTH_WORD + r"$")
_ANY_YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d|21\d\d)(?!\d)")


def _release(year: int, month: int | None, day: int | None, text: str) -> ReleaseDate | None:
    """A checked ReleaseDate, or None when the parts name no real date in the accepted range."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    if month is None:
        return ReleaseDate(year, None, None, YEAR, text)
    if not 1 <= month <= 12:
        return None
    if day is None:
        return ReleaseDate(year, month, None, MONTH, text)
    try:
        date(year, month, day)
    except ValueError:
        return None
    return ReleaseDate(year, month, day, DAY, text)


def _from_serial(number: float, text: str) -> ReleaseDate:
    """A number cell: a whole number 1900-2199 is a year, a larger one a Sheets serial day."""
    if not math.isfinite(number):
        return ReleaseDate(None, None, None, UNKNOWN, text)
    if MIN_YEAR <= number <= MAX_YEAR and number == int(number):
        return ReleaseDate(int(number), None, None, YEAR, text)
    if _MIN_SERIAL <= number <= _MAX_SERIAL:
        d = date.fromordinal(_EPOCH + int(number))  # the fraction is a time of day
        return ReleaseDate(d.year, d.month, d.day, DAY, text)
    return ReleaseDate(None, None, None, UNKNOWN, text)


def _full_year(digits: str) -> int:
    """Two-digit years pivot at 70: "25" is 2025, "98" is 1998."""
    year = int(digits)
    if len(digits) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _from_day_month(a: int, b: int, year: int, text: str) -> ReleaseDate | None:
    """Numeric a/b/year: day-first when a > 12, month-first when b > 12; if both could be a
    month (and differ) the order is a guess we refuse to make, so only the year is kept."""
    if a > 12 and b <= 12:
        return _release(year, b, a, text)
    if b > 12 and a <= 12:
        return _release(year, a, b, text)
    if a == b:
        return _release(year, a, b, text)
    return _release(year, None, None, text)


def _from_text(text: str) -> ReleaseDate:
    lowered = text.casefold()
    found = _parse_date_text(lowered, text)
    if found is not None:
        return found
    years = set(_ANY_YEAR.findall(lowered))  # "Q2 2025", "Summer 2025", "late 2025?"
    if len(years) == 1:
        found = _release(int(years.pop()), None, None, text)
        if found is not None:
            return found
    return ReleaseDate(None, None, None, UNKNOWN, text)


def _parse_date_text(s: str, text: str) -> ReleaseDate | None:
    """The recognised shapes, most common first; None when no shape fits."""
    if m := _ISO.match(s):
        return _release(int(m[1]), int(m[2]), int(m[3]) if m[3] else None, text)
    if m := _YEAR_ONLY.match(s):
        return _release(int(m[1]), None, None, text)
    if m := _NAME_MY.match(s):
        return _release(int(m[2]), _MONTH_NUMBER[m[1][:3]], None, text)
    if m := _NAME_MDY.match(s):
        return _release(int(m[3]), _MONTH_NUMBER[m[1][:3]], int(m[2]), text)
    if m := _NAME_DMY.match(s):
        return _release(int(m[3]), _MONTH_NUMBER[m[2][:3]], int(m[1]), text)
    if m := _NAME_YM.match(s):
        return _release(int(m[1]), _MONTH_NUMBER[m[2][:3]], None, text)
    if m := _NUMERIC_DMY.match(s):
        return _from_day_month(int(m[1]), int(m[2]), _full_year(m[3]), text)
    if m := _NUMERIC_MY.match(s):
        return _release(int(m[2]), int(m[1]), None, text)
    if m := _COMPACT.match(s):
        return _release(int(m[1]), int(m[2]), int(m[3]), text)
    if _SERIAL_TEXT.match(s):
        return _from_serial(float(s), text)
    return None


def _parse_release(value: Any) -> ReleaseDate:
    if value.__class__ is str:
        text = _cell_text(value)[:RELEASE_TEXT_LENGTH]
        return _from_text(text) if text else ReleaseDate(None, None, None, UNKNOWN, "")
    text = _cell_text(value)[:RELEASE_TEXT_LENGTH]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_serial(value, text)
    return _from_text(text) if text else ReleaseDate(None, None, None, UNKNOWN, "")


_parse_release_cached = lru_cache(maxsize=8192, typed=True)(_parse_release)


def parse_release_date(value: Any) -> ReleaseDate:
    """Any release-date cell as a ReleaseDate; never raises.

    Numbers: a whole number 1900-2199 is a year, otherwise a Sheets serial day (1899-12-30
    epoch) if it lands in 1906-2199. Text: "2025-03-14", "2025-03", "March 14, 2025",
    "14 March 2025", "14-Mar-2025", "Mar 2025", "03/2025", "2025", "20250314"; numeric d/m/y
    is day-first when the first part is over 12, month-first when the second is, and year-only
    when both could be months. Text with one year and nothing else recognisable ("Q2 2025",
    "Summer 2025") has year precision; anything else ("TBA", "?", "") is unknown, text kept.
    """
    return _by_cell(_parse_release_cached, value)


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass(frozen=True, slots=True)
class AlbumRow:
    """One valid album row, with its keys and the hash of everything stored from it.

    `links` are (service, URL) pairs sorted by service; `worksheets` the tabs the album is in
    (the engine fills in every tab when an album is listed in several).
    """

    row_number: int
    key: str
    title: str
    artist: str
    artist_key: str
    location: str | None
    country: str | None
    genres: tuple[str, ...]
    genre_keys: tuple[str, ...]
    vocal_style: str | None
    vocal_style_key: str | None
    album_type: str | None
    release: ReleaseDate
    spotify_id: str | None
    spotify_url: str | None
    links: tuple[tuple[str, str], ...]
    debut: bool
    reissue: bool
    worksheets: tuple[str, ...]
    content_hash: str
    row_digest: int | None = None  # set by the engine (see row_digests), not by parse_row


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not become an album: why, and its cells as text for the user."""

    row_number: int
    reason: str
    values: tuple[str, ...]
    worksheet: str | None = None


_UNSEEN = object()


class Announced:
    """An announced album without a title yet (an artist, "TBA"): skipped and counted."""

    __slots__ = ()


ANNOUNCED = Announced()


@dataclass(frozen=True)
class RowRules:
    """Settings a row is read with: the color legend for the flags and the user's
    location -> country mappings (see colorflags and locations)."""

    color_legend: tuple[tuple[tuple[int, int, int], str], ...] = field(
        default_factory=lambda: color_legend()
    )
    location_countries: Mapping[str, str] = field(default_factory=dict)
    _countries: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    def country(self, location: str | None) -> str | None:
        """`locations.country_of` with these mappings, remembered per location text (a
        tracker repeats a few thousand locations over tens of thousands of rows)."""
        if location is None:
            return None
        found = self._countries.get(location, _UNSEEN)
        if found is _UNSEEN:
            if len(self._countries) > 100_000:
                self._countries.clear()
            found = self._countries[location] = country_of(location, self.location_countries)
        return found  # type: ignore[return-value]

    @classmethod
    def from_settings(cls, color_flags: Any, location_countries: Any) -> RowRules:
        return cls(color_legend(color_flags), normalize_mappings(location_countries))


DEFAULT_RULES = RowRules()


def row_error(raw: RawRow, reason: str, columns: ColumnMap | None = None) -> RowError:
    """A RowError carrying the row's cells as text, bounded by `error_values`. The release
    date cell is shown as its date when the sheet sent a serial day (45734 is 2025-03-18), as
    every other page shows dates."""
    return RowError(raw.number, reason, error_values(_error_cells(raw.values, columns)))


def _error_cells(values: Sequence[Any], columns: ColumnMap | None) -> Iterator[str]:
    date_at = columns.release_date if columns is not None else None
    for index, value in enumerate(values):
        if index == date_at and isinstance(value, int | float) and not isinstance(value, bool):
            yield parse_release_date(value).display
        else:
            yield _cell_text(value)


def error_values(cells: Iterable[str]) -> tuple[str, ...]:
    """A failed row's cells as stored and shown: each cut to ERROR_VALUE_LENGTH characters,
    at most ERROR_VALUE_COUNT cells and ERROR_VALUES_TOTAL characters in all (markers aside).
    Whatever is cut is marked with TRUNCATED, so nobody takes the rest for the sheet's text."""
    values: list[str] = []
    left = ERROR_VALUES_TOTAL
    rest = iter(cells)
    for index, cell in enumerate(rest):
        if index == ERROR_VALUE_COUNT or left == 0:
            if cell or any(rest):
                values.append(TRUNCATED)  # the cells from here on are not kept
            break
        keep = min(len(cell), ERROR_VALUE_LENGTH, left)
        if keep == len(cell):
            values.append(cell)
        else:
            values.append(cell[:keep] + TRUNCATED)
            if keep == left:
                break  # the total is spent: this marker also stands for the cells after it
        left -= keep
    return tuple(values)


_HASH_VERSION = "v2"


def content_hash(row: AlbumRow, worksheets: tuple[str, ...] | None = None) -> str:
    """blake2b-128 over every field stored from a row (and the tabs it is in), so an
    unchanged album can be skipped.

    The sheet row number is left out on purpose: inserting one row near the top of the sheet
    would otherwise mark every album below it as changed. Fields are NUL-joined (cells never
    contain NUL after cleaning), lists joined with \x1e, and None is ""."""
    release = row.release
    payload = "\x00".join(
        (
            _HASH_VERSION,
            row.key,
            row.title,
            row.artist,
            row.location or "",
            row.country or "",
            "\x1e".join(row.genres),
            row.vocal_style or "",
            row.album_type or "",
            release.precision,
            str(release.year or ""),
            str(release.month or ""),
            str(release.day or ""),
            release.text,
            row.spotify_id or "",
            row.spotify_url or "",
            "\x1e".join(f"{s}\x1f{u}" for s, u in row.links),
            "D" if row.debut else "",
            "R" if row.reissue else "",
            "\x1e".join(row.worksheets if worksheets is None else worksheets),
        )
    )
    return blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()


def with_worksheets(row: AlbumRow, worksheets: tuple[str, ...]) -> AlbumRow:
    """The row as an album listed in every one of `worksheets`, its hash to match."""
    hashed = content_hash(row, worksheets)
    # An album in several tabs keeps no row digest: its content depends on the other rows.
    return replace(row, worksheets=worksheets, content_hash=hashed, row_digest=None)


_SECTION = re.compile(
    r"[\W_]*(?:" + _MONTH_WORD + r"(?:[\s,/-]*\d{4})?|\d{4}(?:[\s,/-]*" + _MONTH_WORD + r")?"
    r"|q[1-4](?:[\s,/-]*\d{4})?|\d{4}[\s/-]*q[1-4]|h[12](?:\s*\d{4})?|tba|tbd|tbc|upcoming"
    r"|(?:un)?announced(?:\s+(?:projects?|albums?|releases?))?"
    r"|(?:early|mid|late|spring|summer|autumn|fall|winter)(?:[\s,/-]*\d{4})?)[\W_]*$",
    re.IGNORECASE,
)
_REPEATED_HEADER_ARTIST = frozenset(("artist", "artists", "artist(s)", "artist name", "band"))
_REPEATED_HEADER_ALBUM = frozenset(("album", "albums", "album name", "album title", "title"))
_LIST_SEPARATOR = re.compile(r"[,;]")


def _cell(values: tuple[Any, ...], column: int | None) -> Any:
    return values[column] if column is not None and column < len(values) else None


def _optional_text(values: tuple[Any, ...], column: int | None) -> str | None:
    if column is None or column >= len(values):
        return None
    return _cell_text(values[column]) or None


def split_genres(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(genres, their keys): split on commas and semicolons (not "/": "Atmospheric/Post-Black
    metal" is one genre), trimmed, de-duplicated case-insensitively, first spelling and order
    kept."""
    if not text:
        return (), ()
    names: list[str] = []
    keys: list[str] = []
    for part in _LIST_SEPARATOR.split(text) if ("," in text or ";" in text) else (text,):
        name = " ".join(part.split())
        if not name:
            continue
        key = normalize_name(name)
        if key not in keys:
            names.append(name)
            keys.append(key)
    return tuple(names), tuple(keys)


def _http_url(text: str) -> str | None:
    url = _cell_text(text)
    if url[:8].lower().startswith(("http://", "https://")) and len(url) <= URL_LENGTH:
        return url
    return None


def _links(raw: RawRow, columns: ColumnMap, values: tuple[Any, ...]) -> dict[str, str]:
    """Service -> URL for every link column but Spotify's: the cell's hyperlink (a cell link,
    a Ctrl+K link or an =HYPERLINK formula), else its text when that is a URL.

    The Spotify column is `_spotify`'s: it tries the same hyperlink and text first, so any URL
    found here would be replaced by its answer anyway."""
    found: dict[str, str] = {}
    cell_links = raw.links or {}
    n = len(values)
    for column, service in columns.links:
        if column == columns.spotify:
            continue
        url = _http_url(cell_links[column]) if column in cell_links else None
        # An empty cell (or 0, FALSE) is no URL: most link cells are empty or hold a label.
        if url is None and column < n and (value := values[column]):
            text = _cell_text(value)
            if text and _looks_like_url(text):
                url = _http_url(text)
        if url is not None:
            found[service] = url
    return found


def _spotify(
    raw: RawRow, columns: ColumnMap, values: tuple[Any, ...]
) -> tuple[str | None, str | None]:
    """(album id, URL to store): the spotify cell's hyperlink, else its text if it is a URL,
    else a hyperlink on the album cell. Another site's link is kept as a URL without an id."""
    links = raw.links
    candidates: list[str] = []
    if links and columns.spotify is not None and columns.spotify in links:
        candidates.append(links[columns.spotify])
    text = _cell_text(_cell(values, columns.spotify)) if columns.spotify is not None else ""
    if text and _looks_like_url(text):
        candidates.append(text)
    if links and columns.album in links:
        candidates.append(links[columns.album])
    other = None
    for url in candidates:
        album_id = spotify_album_id(url)
        if album_id:
            return album_id, "https://open.spotify.com/album/" + album_id
        if other is None:
            other = _http_url(url)
    return None, other


def _is_announced(values: tuple[Any, ...], columns: ColumnMap, artist: str) -> bool:
    """An artist with no title and a release date that is not a full date ("TBA", empty, a
    month, "Fall", "Early 2024"): an album announced before it has a name."""
    if not artist:
        return False
    return parse_release_date(_cell(values, columns.release_date)).precision != DAY


def _incomplete(
    raw: RawRow, columns: ColumnMap, artist: str, title: str
) -> RowError | Announced | None:
    """A row without artist or album: None for blank and section rows, ANNOUNCED for an
    announced untitled album, else the RowError."""
    filled = [(i, text) for i, v in enumerate(raw.values) if (text := _cell_text(v))]
    if not filled:
        return None
    if len(filled) == 1:
        column, text = filled[0]
        if column not in (columns.artist, columns.album) or _SECTION.match(text):
            return None  # "JANUARY", "— Q1 2025 —", "Unannounced Projects", a lone note
    if not title and _is_announced(raw.values, columns, artist):
        return ANNOUNCED
    if not artist and not title:
        return row_error(raw, "Missing artist and album name", columns)
    return row_error(raw, "Missing artist name" if not artist else "Missing album name", columns)


def _too_long(artist: str, title: str, artist_key: str, title_key: str) -> str | None:
    if len(artist) > NAME_LENGTH or len(artist_key) > NAME_LENGTH:
        return (
            f"Artist name is longer than {NAME_LENGTH} characters ({len(artist)}); "
            "shorten it in the sheet"
        )
    if len(title) > NAME_LENGTH or len(title_key) > NAME_LENGTH:
        return (
            f"Album name is longer than {NAME_LENGTH} characters ({len(title)}); "
            "shorten it in the sheet"
        )
    return None


def _facet_problem(label: str, text: str | None, key: str | None, limit: int) -> str | None:
    if text is not None and (len(text) > limit or len(key or "") > limit):
        return f"{label} is longer than {limit} characters ({len(text)}); shorten it in the sheet"
    return None


def _genre_problem(genres: tuple[str, ...], keys: tuple[str, ...]) -> str | None:
    for name, key in zip(genres, keys, strict=True):
        if (problem := _facet_problem("A genre", name, key, NAME_LENGTH)) is not None:
            return problem
    return None


def _genre_cell(value: Any) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """A Genre cell's (genres, their keys, problem or None). Memoised: a tracker has a few
    hundred distinct genre lists over its tens of thousands of rows."""
    genres, keys = split_genres(_cell_text(value))
    return genres, keys, _genre_problem(genres, keys)


def _vocal_style_cell(value: Any) -> tuple[str | None, str | None, str | None]:
    """A Vocal Style cell's (text, key, problem), None for an empty cell. Memoised: a tracker
    has a handful of vocal styles."""
    text = _cell_text(value) or None
    key = normalize_name(text) if text else None
    return text, key, _facet_problem("Vocal style", text, key, NAME_LENGTH)


_genre_memo = lru_cache(maxsize=4096, typed=True)(_genre_cell)
_vocal_style_memo = lru_cache(maxsize=1024, typed=True)(_vocal_style_cell)


def _flags(raw: RawRow, columns: ColumnMap, rules: RowRules) -> tuple[bool, bool]:
    """(debut, reissue) from the Length cell's background color."""
    if not raw.colors or columns.album_type is None:
        return False, False
    flag = color_flag(raw.colors.get(columns.album_type), rules.color_legend)
    return flag == "debut", flag == "reissue"


def parse_row(
    raw: RawRow, columns: ColumnMap, rules: RowRules = DEFAULT_RULES, worksheet: str | None = None
) -> AlbumRow | RowError | Announced | None:
    """One sheet row as an AlbumRow, a RowError saying what is wrong, ANNOUNCED for an
    announced album with no title yet, or None to skip quietly (blank rows, section rows such
    as "JANUARY", a repeated header row). `worksheet` is the tab it came from. Never raises."""
    values = raw.values
    n = len(values)
    artist = _cell_text(values[columns.artist]) if columns.artist < n else ""
    title = _cell_text(values[columns.album]) if columns.album < n else ""
    if not artist or not title:
        return _incomplete(raw, columns, artist, title)

    artist_key = normalize_name(artist)
    title_key = normalize_name(title)
    if (problem := _too_long(artist, title, artist_key, title_key)) is not None:
        return row_error(raw, problem, columns)
    if artist_key in _REPEATED_HEADER_ARTIST and title_key in _REPEATED_HEADER_ALBUM:
        return None  # the header again, e.g. above each month's block

    genres, genre_keys, genre_problem = _by_cell(_genre_memo, _cell(values, columns.genre))
    vocal_style, vocal_style_key, vocal_problem = _by_cell(
        _vocal_style_memo, _cell(values, columns.vocal_style)
    )
    location = _optional_text(values, columns.location)
    album_type = _optional_text(values, columns.album_type)
    problem = (
        genre_problem
        or vocal_problem
        or _facet_problem("Country / State", location, location, LOCATION_LENGTH)
        or _facet_problem("Length", album_type, album_type, ALBUM_TYPE_LENGTH)
    )
    if problem is not None:
        return row_error(raw, problem, columns)

    release = parse_release_date(_cell(values, columns.release_date))
    spotify_id, spotify_url = _spotify(raw, columns, values)
    key = album_key(spotify_id, artist_key, title_key)
    if len(key) > MAX_KEY_BYTES // 4 and len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return row_error(
            raw,
            "Artist and album names are too long together to index "
            f"({len(key.encode('utf-8')):,} bytes of UTF-8, at most "
            f"{MAX_KEY_BYTES:,}); shorten them in the sheet or add a Spotify link",
            columns,
        )
    links = _links(raw, columns, values)
    if spotify_url:
        links["spotify"] = spotify_url
    debut, reissue = _flags(raw, columns, rules)
    country = rules.country(location)
    link_pairs = tuple(sorted(links.items()))
    tabs = (worksheet,) if worksheet else ()
    row = AlbumRow(
        raw.number,
        key,
        title,
        artist,
        artist_key,
        location,
        country,
        genres,
        genre_keys,
        vocal_style,
        vocal_style_key,
        album_type,
        release,
        spotify_id,
        spotify_url,
        link_pairs,
        debut,
        reissue,
        tabs,
        "",  # content_hash: below, from the row itself
    )
    object.__setattr__(row, "content_hash", content_hash(row))  # new, not yet shared
    return row


def _stored_values(row: AlbumRow) -> tuple[str, ...]:
    """An AlbumRow's fields, for a RowError about it: the original sheet's column order, then
    the length when there is one."""
    release = row.release
    values = [
        release.display if _SERIAL_TEXT.match(release.text) else release.text,
        row.artist,
        row.title,
        ", ".join(row.genres),
        row.vocal_style,
        row.location,
        row.spotify_url,
    ]
    if row.album_type:
        values.append(row.album_type)
    return error_values(v or "" for v in values)


def duplicate_error(row: AlbumRow, winner_row: int, worksheet: str | None = None) -> RowError:
    """The RowError for an album row that lost to a later row with the same key."""
    reason = f"Duplicate of row {winner_row}: the later row was used"
    return RowError(row.row_number, reason, _stored_values(row), worksheet)
