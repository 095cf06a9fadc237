"""Migration 0003 (worker heartbeats, due times, sent notifications, how a sync was started)
applied to a database the previous schema made, with a sync already in it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from synccore import CatalogSync
from synccore.config import Settings
from synccore.db import _alembic_config, _current_revision, normalize_url

PREVIOUS = "0002_album_title_key"  # the schema before this migration


def test_upgrade_from_the_previous_head_keeps_history_and_adds_the_new_tables(database_url):
    engine = sa.create_engine(normalize_url(database_url))
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, PREVIOUS)
    with engine.begin() as conn:  # a finished sync, as the old schema stored it
        conn.execute(
            sa.text(
                "INSERT INTO sync_operations (id, status, message, processed, total, created, "
                "updated, unchanged, removed, failed, triggered_by, host, pid, force, "
                "cancel_requested, source, started_at, heartbeat_at, finished_at) VALUES "
                "(1, 'completed', 'done', 3, 3, 3, 0, 0, 0, 0, 'alice', 'h', 1, false, false, "
                "'CSV', '2026-11-25 10:00:00', '2026-11-25 10:00:01', '2026-11-25 10:00:02')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO sync_results (operation_id, status, message, triggered_by, source, "
                "started_at, finished_at, duration_seconds, total, created, updated, unchanged, "
                "removed, failed) VALUES (1, 'completed', 'done', 'alice', 'CSV', "
                "'2026-11-25 10:00:00', '2026-11-25 10:00:02', 2.0, 3, 3, 0, 0, 0, 0)"
            )
        )
    assert _current_revision(engine) == PREVIOUS
    engine.dispose()

    sync = CatalogSync(Settings(database_url=database_url))  # migrates to head
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert _current_revision(sync.db.read_engine) == head  # 0003 and any later migrations
    [old] = sync.history()
    assert (old.operation_id, old.triggered_by, old.trigger, old.run_by_worker) == (
        1,
        "alice",
        None,
        False,
    )
    assert old.started_via == "API"
    names = set(sa.inspect(sync.db.read_engine).get_table_names())
    assert {"sync_workers", "scheduled_runs", "sent_notifications"} <= names
    assert sync.health().code == 0
    sync.close()
