"""the change log (what each sync changed per album) and previews (dry runs) in the history

Syncs made before this upgrade have no change log; a preview is a sync operation marked
`preview`, a forced sync's result records that it was forced (and an operation confirmed
from the page how many removals were confirmed), and each sync the sheet's Drive modified
time it began with (`sheet_modified`), so an unchanged sheet need not be read again.

Revision ID: 0005_change_log
Revises: 0004_tracker_columns
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_change_log"
down_revision = "0004_tracker_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "album_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("album_id", sa.Integer(), nullable=True),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("artist", sa.String(length=500), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["operation_id"],
            ["sync_operations.id"],
            name=op.f("fk_album_changes_operation_id_sync_operations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_album_changes")),
    )
    op.create_index("ix_album_changes_operation_id", "album_changes", ["operation_id"])
    op.create_index("ix_album_changes_album", "album_changes", ["album_id", "operation_id"])
    for table in ("sync_operations", "sync_results"):
        op.add_column(
            table, sa.Column("preview", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.add_column("sync_operations", sa.Column("confirmed_removals", sa.Integer(), nullable=True))
    op.add_column(
        "sync_results",
        sa.Column("force", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    for table in ("sync_operations", "sync_results"):
        op.add_column(table, sa.Column("sheet_modified", sa.String(length=60), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("Restore the backup taken before upgrading to go back.")
