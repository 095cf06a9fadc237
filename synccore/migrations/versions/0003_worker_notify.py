"""worker heartbeats, scheduled due times, sent notifications, and how each sync was started

Revision ID: 0003_worker_notify
Revises: 0002_album_title_key
Create Date: 2026-11-26 02:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_worker_notify"
down_revision = "0002_album_title_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: on SQLite a batch "move and copy" drops and recreates
    # sync_operations, and with foreign keys on, the drop cascades to every sync_results and
    # sync_row_errors row (the whole history). tests/test_migrations.py guards this.
    op.add_column("sync_operations", sa.Column("trigger", sa.String(length=30), nullable=True))
    op.add_column(
        "sync_operations",
        sa.Column("awaiting_worker", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "sync_operations",
        sa.Column("run_by_worker", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "sync_workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.String(length=200), nullable=True),
        sa.Column("runs_dashboard_syncs", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_workers")),
    )
    op.create_index(
        op.f("ix_sync_workers_heartbeat_at"), "sync_workers", ["heartbeat_at"], unique=False
    )
    op.create_table(
        "scheduled_runs",
        sa.Column("scheduled_for", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("scheduled_for", name=op.f("pk_scheduled_runs")),
    )
    op.create_table(
        "sent_notifications",
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_key", name=op.f("pk_sent_notifications")),
    )
    op.create_index(
        op.f("ix_sent_notifications_sent_at"), "sent_notifications", ["sent_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sent_notifications_sent_at"), table_name="sent_notifications")
    op.drop_table("sent_notifications")
    op.drop_table("scheduled_runs")
    op.drop_index(op.f("ix_sync_workers_heartbeat_at"), table_name="sync_workers")
    op.drop_table("sync_workers")
    # Plain DROP COLUMN (SQLite 3.35+), not batch mode: see upgrade().
    op.drop_column("sync_operations", "run_by_worker")
    op.drop_column("sync_operations", "awaiting_worker")
    op.drop_column("sync_operations", "trigger")
