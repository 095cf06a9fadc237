"""each album's row digest, so a re-sync skips parsing the rows it already holds as they are

Albums stored before it have none: the first sync after the upgrade parses every row, as
before, and records them (see row_digests).

Revision ID: 0006_row_digests
Revises: 0005_change_log
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_row_digests"
down_revision = "0005_change_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): instant on a full table, in SQLite and PostgreSQL.
    op.add_column("albums", sa.Column("row_digest", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("Restore the backup taken before upgrading to go back.")
