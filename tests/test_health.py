"""Pure: the health state from facts, the codes `synccore check` exits with (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from synccore.health import HealthFacts, LastOutcome, assess, stale_limit
from synccore.schedule import parse_schedule

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def ok(op_id=7, status="completed", ago=HOUR):
    return LastOutcome(op_id, status, f"Sync {status}.", "alice", NOW - ago)


def facts(**kw):
    base = dict(now=NOW, heartbeat_timeout=30, last_success_at=NOW - HOUR, last_outcome=ok())
    base.update(kw)
    return HealthFacts(**base)


def test_healthy():
    health = assess(facts())
    assert (health.code, health.summary) == (0, "OK: last successful sync 60 min ago")


def test_last_sync_failed_is_1():
    health = assess(facts(last_outcome=ok(8, "failed")))
    assert health.code == 1
    assert health.summary == "FAILED: the last sync (#8) failed: Sync failed."


def test_interrupted_is_1_and_cancelled_is_not():
    assert assess(facts(last_outcome=ok(8, "interrupted"))).code == 1
    assert assess(facts(last_outcome=ok(8, "cancelled"))).code == 0


def test_never_synced_is_2():
    health = assess(facts(last_success_at=None, last_outcome=None))
    assert (health.code, health.summary) == (2, "STALE: the catalog was never synced successfully")


def test_stale_is_2_and_staleness_is_off_by_default():
    old = NOW - timedelta(days=3)
    assert assess(facts(last_success_at=old)).code == 0
    health = assess(facts(last_success_at=old, stale_after=26 * 3600))
    assert health.code == 2
    assert health.summary == (
        "STALE: the catalog is stale: last successful sync 3 days ago (limit 26h)"
    )


def test_stale_heartbeat_of_an_active_sync_is_3():
    health = assess(facts(active_id=9, active_heartbeat_at=NOW - timedelta(seconds=45)))
    assert health.code == 3 and "sync #9 is active but its heartbeat is 45 s old" in health.summary
    assert assess(facts(active_id=9, active_heartbeat_at=NOW - timedelta(seconds=5))).code == 0


def test_schedule_without_a_worker_is_3():
    every = parse_schedule("every 6h")
    assert assess(facts(schedule=every, worker_seen_at=NOW - timedelta(seconds=3))).code == 0
    health = assess(facts(schedule=every, worker_seen_at=NOW - timedelta(minutes=5)))
    assert health.code == 3
    assert health.summary == "STUCK: no worker is running for the schedule (every 6h)"
    assert assess(facts(schedule=every)).code == 3  # never seen


def test_the_highest_code_wins_and_every_problem_is_named():
    health = assess(
        facts(
            last_outcome=ok(8, "failed"),
            last_success_at=None,
            schedule=parse_schedule("every 6h"),
        )
    )
    assert health.code == 3
    assert health.summary == (
        "STUCK: no worker is running for the schedule (every 6h); the catalog was never synced "
        "successfully; the last sync (#8) failed: Sync failed."
    )


def test_stale_limit_defaults_to_twice_the_schedule():
    assert stale_limit(None, None, NOW) is None
    assert stale_limit(None, parse_schedule("every 6h"), NOW) == 12 * 3600
    assert stale_limit(None, parse_schedule("0 6 * * *"), NOW) == 2 * 86400
    assert stale_limit(3600, parse_schedule("every 6h"), NOW) == 3600


def test_json_has_the_facts():
    data = assess(facts(schedule=parse_schedule("every 6h"), worker_seen_at=NOW)).to_json()
    assert data["code"] == 0 and data["schedule"] == "every 6h" and data["worker_running"]
    assert data["last_outcome"]["operation_id"] == 7
    assert data["age_seconds"] == 3600.0
