"""Where an artist is from: the sheet's "Country / State" text, and the country it names.

The tracker writes "Tampa, FL", "Québec City, Canada", "London, UK", "Washington, D.C.",
"France" or "International". The country is read from the last comma-separated part: US
states and Canadian provinces (names and postal codes) first, then the UK's nations and a few
everyday names, then pycountry's ISO 3166 names and codes. Anything else gives no country
rather than a guess; users add their own mappings (SYNCCORE_LOCATION_COUNTRIES).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

import pycountry

UNITED_STATES = "United States"
UNITED_KINGDOM = "United Kingdom"
CANADA = "Canada"

# Everyday names and codes the ISO tables do not carry (or carry under a formal name), as ISO
# alpha-2 codes, and the short names shown for countries whose ISO name is formal.
_EVERYDAY = {
    "us": "US",
    "usa": "US",
    "u s": "US",
    "u s a": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "czech republic": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "vietnam": "VN",
    "turkey": "TR",
}
_SHORT_NAMES = {"RU": "Russia", "KR": "South Korea", "KP": "North Korea", "VN": "Vietnam"}
# "International" (members on several continents) and similar say no one country on purpose.
_NO_COUNTRY = frozenset(("international", "worldwide", "various", "unknown", "n/a", "na", "?"))
_PUNCT = re.compile(r"[.\s]+")


def _token(text: str) -> str:
    """Comparison form: NFKC, case-folded, dots dropped, spaces collapsed ("D.C." -> "dc")."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace(".", " ")
    return " ".join(folded.split())


def _compact(text: str) -> str:
    return _token(text).replace(" ", "")


def _subdivisions(country_code: str, country: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code=country_code) or ():
        table[_token(sub.name)] = country
        table[_compact(sub.code.split("-", 1)[1])] = country
    return table


@lru_cache(maxsize=1)
def _regions() -> dict[str, str]:
    """US states and districts, Canadian provinces: names and postal codes -> country.

    A two-letter code after a comma is a state in the tracker ("Tampa, FL"), so "CA" is
    California and "GA" Georgia (the state), not Canada or Gabon: these win over ISO codes.
    """
    table = _subdivisions("CA", CANADA)
    table.update(_subdivisions("US", UNITED_STATES))
    table.update({"dc": UNITED_STATES, "washington dc": UNITED_STATES, "d c": UNITED_STATES})
    return table


def _display_name(country) -> str:
    return (
        _SHORT_NAMES.get(country.alpha_2) or getattr(country, "common_name", None) or country.name
    )


@lru_cache(maxsize=4096)
def _iso_country(part: str) -> str | None:
    try:
        return _display_name(pycountry.countries.lookup(part))
    except LookupError:
        return None


def _resolve_part(part: str) -> str | None:
    token = _token(part)
    if not token or token in _NO_COUNTRY:
        return None
    regions = _regions()
    if token in regions:
        return regions[token]
    if _compact(part) in regions and len(_compact(part)) == 2:
        return regions[_compact(part)]
    return _iso_country(_EVERYDAY.get(token) or part.strip())


def normalize_mappings(mappings: Mapping[str, str] | None) -> dict[str, str]:
    """User mappings (location text or its last part -> country) in comparison form."""
    return {_token(k): str(v).strip() for k, v in (mappings or {}).items() if str(v).strip()}


def country_of(location: str | None, mappings: Mapping[str, str] | None = None) -> str | None:
    """The country a location names, or None when it names none or cannot be told.

    `mappings` (from `normalize_mappings`) are checked first, against the whole text and then
    its last part, so a user can settle "Tbilisi, Georgia" or "Europe" themselves.
    """
    if not location:
        return None
    last = location.rsplit(",", 1)[-1]
    if mappings:
        for text in (location, last):
            found = mappings.get(_token(text))
            if found:
                return found
    if "," in location and _token(location) in _regions():
        return _regions()[_token(location)]  # "Washington, D.C."
    return _resolve_part(last)
