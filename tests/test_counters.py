"""The sync's counters are named once (synccore.counters); the tables and views carry them all."""

from __future__ import annotations

from dataclasses import fields

from synccore.counters import COUNTERS, RESULT_COUNTERS
from synccore.models import SyncOperation, SyncResult
from synccore.operations import Progress
from synccore.status import OperationStatus, SyncSummary


def test_the_seven_counters():
    assert set(COUNTERS) == {
        "processed",
        "total",
        "created",
        "updated",
        "unchanged",
        "removed",
        "failed",
    }
    assert set(RESULT_COUNTERS) == set(COUNTERS) - {"processed"}


def test_the_tables_have_a_column_for_each_counter():
    assert set(COUNTERS) <= set(SyncOperation.__table__.columns.keys())
    assert set(RESULT_COUNTERS) <= set(SyncResult.__table__.columns.keys())
    assert "processed" not in SyncResult.__table__.columns.keys()


def test_the_views_and_snapshots_carry_the_counters():
    for view, names in (
        (OperationStatus, COUNTERS),
        (Progress, COUNTERS),
        (SyncSummary, RESULT_COUNTERS),
    ):
        assert set(names) <= {f.name for f in fields(view)}, view
