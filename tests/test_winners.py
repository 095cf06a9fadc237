"""The winner map: which row gives each album its fields, kept as ints by stable digests."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from hashlib import blake2b

from synccore.winners import MAX_TABS, Winner, Winners, digest

KEY = "spotify:4aawyAB9vmqN3uQ7FjRGTy"


def test_digest_is_eight_bytes_of_blake2b_and_the_same_in_every_process():
    expected = int.from_bytes(blake2b(KEY.encode(), digest_size=8).digest(), "little")
    assert digest(KEY) == expected < 2**64
    code = f"from synccore.winners import digest; print(digest({KEY!r}))"
    for seed in ("1", "2"):  # hash() of a str differs between these two processes
        env = os.environ | {"PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert int(out.stdout) == expected


def test_a_later_row_in_the_same_tab_wins():
    winners = Winners()
    winners.add(KEY, "old", tab=0, row=5)
    winners.add(KEY, "new", tab=0, row=9)
    assert winners.get(KEY) == Winner(row=9, tab=0, unchanged=False, tabs=0)
    assert len(winners) == 1


def test_the_first_tab_listing_an_album_wins_and_every_tab_listing_it_is_recorded():
    winners = Winners()
    winners.add(KEY, "h", tab=1, row=7)
    winners.add(KEY, "other", tab=3, row=2)
    winners.add(KEY, "more", tab=MAX_TABS - 1, row=4)
    assert winners.get(KEY) == Winner(
        row=7, tab=1, unchanged=False, tabs=(1 << 1) | (1 << 3) | (1 << (MAX_TABS - 1))
    )


def test_the_largest_row_number_and_tab_index_survive_packing():
    winners = Winners()
    winners.add(KEY, "h", tab=MAX_TABS - 1, row=2**32 - 1)
    assert winners.get(KEY) == Winner(2**32 - 1, MAX_TABS - 1, False, 0)


def test_mark_unchanged_says_which_stored_albums_the_sheet_lists():
    winners = Winners()
    winners.add("listed", "h1", tab=0, row=2)
    assert winners.mark_unchanged("listed", "h1") is True
    assert winners.mark_unchanged("not in the sheet", "h1") is False


def test_only_the_same_content_in_a_single_tab_is_marked_unchanged():
    winners = Winners()
    winners.add("same", "h1", tab=0, row=2)
    winners.add("edited", "h2", tab=0, row=3)
    winners.add("in two tabs", "h3", tab=0, row=4)
    winners.add("in two tabs", "h3", tab=1, row=2)
    for key, stored in (("same", "h1"), ("edited", "old"), ("in two tabs", "h3")):
        winners.mark_unchanged(key, stored)
    assert winners.get("same").unchanged
    assert not winners.get("edited").unchanged
    assert not winners.get("in two tabs").unchanged  # its full hash includes its tabs
    assert winners.get("same").row == 2 and winners.get("same").tab == 0


def test_keys_are_not_kept_as_strings():
    keys = [f"spotify:{n:022d}-{'x' * 200}" for n in range(20_000)]  # 250-character keys
    tracemalloc.start()
    try:
        winners = Winners()
        for n, key in enumerate(keys):
            winners.add(key, "h" * 32, tab=0, row=n + 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / len(keys) < 200  # a kept key alone would be over 250 bytes
