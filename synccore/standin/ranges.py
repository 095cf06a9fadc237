"""A1 ranges as the Sheets API reads and writes them: parsing, column letters, quoting."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class A1Range:
    """A parsed A1 range, 0-based and inclusive; None for an open end or no sheet title."""

    title: str | None
    start_row: int
    start_col: int
    end_row: int | None
    end_col: int | None


_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")
_LOOKS_LIKE_CELL = re.compile(r"^(?:[A-Za-z]{1,3}\d*|\d+|R\d*C\d*)(?::|$)", re.IGNORECASE)


def column_index(letters: str) -> int:
    """A -> 0, AA -> 26."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def quote_sheet_title(title: str) -> str:
    """The title as Google writes it in a range it returns: quoted unless plainly a name."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not _LOOKS_LIKE_CELL.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def _split_title(text: str) -> tuple[str | None, str]:
    if text.startswith("'"):
        i, chars = 1, []
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    chars.append("'")
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest and not rest.startswith("!"):
                    raise ValueError(text)
                return "".join(chars), rest[1:]
            chars.append(text[i])
            i += 1
        raise ValueError(text)
    if "!" in text:
        title, cells = text.split("!", 1)
        return title, cells
    if _CELL.match(text.split(":", 1)[0]) and all(_CELL.match(p) for p in text.split(":")):
        return None, text
    return text, ""


def _parse_endpoint(text: str) -> tuple[int | None, int | None]:
    match = _CELL.match(text)
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(text)
    letters, digits = match.groups()
    if digits and int(digits) < 1:
        raise ValueError(text)
    return (int(digits) - 1 if digits else None), (column_index(letters) if letters else None)


def parse_a1(text: str) -> A1Range:
    """Parse `'My Sheet'!A1:H5000`, `Sheet1!A:H`, `Sheet1!1:5`, `A1:B2`, `Sheet1`."""
    title, cells = _split_title(text.strip())
    if title == "":
        raise ValueError(text)
    if not cells:
        return A1Range(title, 0, 0, None, None)
    parts = cells.split(":")
    if len(parts) > 2:
        raise ValueError(text)
    r0, c0 = _parse_endpoint(parts[0])
    r1, c1 = _parse_endpoint(parts[1]) if len(parts) == 2 else (r0, c0)
    if len(parts) == 1 and (r0 is None or c0 is None):
        r1, c1 = (r0, None) if r0 is not None else (None, c0)  # "5" is a row, "A" a column
    if r0 is not None and r1 is not None and r1 < r0:
        r0, r1 = r1, r0
    if c0 is not None and c1 is not None and c1 < c0:
        c0, c1 = c1, c0
    return A1Range(title, r0 or 0, c0 or 0, r1, c1)
