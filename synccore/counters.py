"""The sync's counters, named once: what a sync did, in albums (and rows for `failed`).

The live operation, its progress snapshots, the finished result and their views all carry
these; they take them from here (the ORM columns mirror them: `models.ResultCountColumns`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ResultCounts:
    """What a finished sync did: the History's columns."""

    total: int = 0  # albums in the sheet (rows read, while fetching)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0  # sheet rows that could not be used


@dataclass(frozen=True, kw_only=True)
class SyncCounts(ResultCounts):
    """A running sync's counters: the result's, and how many albums it has handled so far."""

    processed: int = 0


# What people read for each counter: the dashboard's metrics and History columns and the CLI's
# summary use these words, so the outcome message and the figures beside it agree.
LABELS = {
    "total": "Albums",
    "processed": "Albums synced",
    "created": "New",
    "updated": "Changed",
    "unchanged": "Unchanged",
    "removed": "Removed",
    "failed": "Rows not used",
}

RESULT_COUNTERS = tuple(f.name for f in fields(ResultCounts))
COUNTERS = tuple(f.name for f in fields(SyncCounts))


def counters_of(source: Any, names: tuple[str, ...] = COUNTERS) -> dict[str, Any]:
    """The named counters of any object that has them (a row, a view, a snapshot)."""
    return {name: getattr(source, name) for name in names}
