"""Row digests: a re-sync skips parsing the rows the catalog already holds as they are.

A row digest is a 63-bit blake2b of one sheet row's raw cells (values, links, colors; not its
row number) and of everything else `rows.parse_row` reads: the tab's name and column map, the
row rules, and the parser's own code and country data. Each album stores the digest of the row
it was last read from (`albums.row_digest`). A re-sync that reads a row with a known digest
knows, without parsing it, which album it is and that its content is the stored one; the row
is parsed later only if the write stage needs it (a duplicate, an album now in several tabs).

Albums listed in several tabs store none (their content depends on other rows). The map of
known digests costs about 300 bytes an album, so it is loaded only for catalogs of at most
KNOWN_LIMIT albums; a larger catalog parses every row, as before.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from . import colorflags, locations, rows
from .db import Database
from .models import Album
from .rows import ColumnMap, RowRules
from .sources.base import RawRow

KNOWN_LIMIT = 300_000
_MASK = (1 << 63) - 1  # a signed 64-bit column holds it
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS


def _parser_fingerprint() -> bytes:
    """The parser's code and country data: a new release that reads rows differently makes
    every digest new, so nothing is skipped on the strength of the old parser's answer."""
    code = hashlib.blake2b(digest_size=16)
    for module in (rows, locations, colorflags):
        code.update(Path(module.__file__ or "").read_bytes())
    code.update(version("pycountry").encode())
    return code.digest()


PARSER = _parser_fingerprint()

# What one tab's rows are digested with: see tab_context.
Context = Any  # a hashlib blake2b object (hashlib exposes no public type for it)


def tab_context(title: str, columns: ColumnMap, rules: RowRules) -> Context:
    """The digest state every row of one tab starts from."""
    facts = (title, repr(columns), rules.color_legend, sorted(rules.location_countries.items()))
    context = hashlib.blake2b(PARSER, digest_size=8)
    context.update(orjson.dumps(facts, option=_OPTIONS))
    return context


def row_digest(context: Context, raw: RawRow) -> int | None:
    """The row's digest, or None for a row orjson cannot encode (a lone surrogate, an integer
    past 64 bits): such a row is simply parsed every time."""
    try:
        cells = orjson.dumps((raw.values, raw.links, raw.colors), option=_OPTIONS)
    except orjson.JSONEncodeError:
        return None
    digest = context.copy()
    digest.update(cells)
    return int.from_bytes(digest.digest(), "little") & _MASK


def load_known(db: Database) -> dict[int, tuple[str, str]] | None:
    """Stored digest -> (album key, content hash) of the albums still in the sheet; None for a
    catalog past KNOWN_LIMIT albums (see the module's docstring)."""
    with db.session() as s:
        active = s.scalar(select(func.count(Album.id)).where(Album.removed_at.is_(None))) or 0
        if active > KNOWN_LIMIT:
            return None
        found = s.execute(
            select(Album.row_digest, Album.key, Album.content_hash).where(
                Album.removed_at.is_(None), Album.row_digest.is_not(None)
            )
        )
        return {digest: (key, content) for digest, key, content in found if digest is not None}
