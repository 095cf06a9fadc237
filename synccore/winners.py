"""Which sheet row wins each album key: the map a sync keeps between reading the sheet and
writing the catalog, one int per key so a 1.25-million-row sheet's map stays small."""

from __future__ import annotations

from hashlib import blake2b
from typing import NamedTuple

MAX_TABS = 4096  # tab indexes are packed into 12 bits of a winner

# A winner packs the row number of the row that wins (bits 0-31), its tab's index (bits
# 32-43), whether the catalog already holds exactly that content (bit 44) and the digest of
# its content hash (bits 45 up).
_ROW_BITS = 0xFFFF_FFFF
_TAB_SHIFT = 32
_TAB_BITS = MAX_TABS - 1
_UNCHANGED = 1 << 44
_HASH_SHIFT = 45


def digest(text: str) -> int:
    """A 64-bit digest of `text` (8-byte blake2b): the same in every process, unlike hash()."""
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "little")


class Winner(NamedTuple):
    row: int  # the sheet row that gives the album's fields
    tab: int  # the index of that row's tab
    unchanged: bool  # the catalog already holds exactly that content
    tabs: int  # bit mask of the tabs listing the album when it is in several, else 0


class Winners:
    """Album key -> the row that wins it: the last row of the key in the first tab listing it
    (a later row in the same tab is a correction; a later tab lists the same album again).

    Keys and content hashes are kept as 64-bit digests, not strings, so the map is two dicts
    of ints (about 100 bytes a key). The trade-off: two different keys with the same digest
    would count as one album (the later row reported as a duplicate of the other), and two
    contents with the same digest would skip a needed write. The chance that any two of n keys
    collide is about n**2 / 2**65: 4 in 100 million for 1.25 million albums.
    """

    __slots__ = ("_packed", "_tabs")

    def __init__(self) -> None:
        self._packed: dict[int, int] = {}
        self._tabs: dict[int, int] = {}  # only albums listed in several tabs

    def __len__(self) -> int:
        return len(self._packed)

    def add(self, key: str, content_hash: str, tab: int, row: int) -> None:
        """A parsed row of `tab`, read in sheet order (tabs in order, rows top to bottom)."""
        k = digest(key)
        previous = self._packed.get(k)
        if previous is None or _tab_of(previous) == tab:
            self._packed[k] = (digest(content_hash) << _HASH_SHIFT) | (tab << _TAB_SHIFT) | row
        else:
            self._tabs[k] = self._tabs.get(k, 1 << _tab_of(previous)) | (1 << tab)

    def mark_unchanged(self, key: str, stored_hash: str) -> bool:
        """Note that the catalog holds `key` with `stored_hash`; False if the sheet lacks it.

        An album listed in one tab whose content is the stored one is marked unchanged (the
        write stage skips it without a query); one listed in several tabs is left to the write
        stage, which compares its full hash (the tabs it is in are part of it)."""
        k = digest(key)
        packed = self._packed.get(k)
        if packed is None:
            return False
        if packed >> _HASH_SHIFT == digest(stored_hash) and k not in self._tabs:
            self._packed[k] = packed | _UNCHANGED
        return True

    def get(self, key: str) -> Winner:
        """The winner of a key that `add` saw (KeyError otherwise)."""
        k = digest(key)
        packed = self._packed[k]
        return Winner(
            packed & _ROW_BITS, _tab_of(packed), bool(packed & _UNCHANGED), self._tabs.get(k, 0)
        )


def _tab_of(packed: int) -> int:
    return (packed >> _TAB_SHIFT) & _TAB_BITS
