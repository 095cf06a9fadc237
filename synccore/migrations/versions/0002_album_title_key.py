"""albums.title_key: the title in its comparison form, for a literal, Unicode-aware search

Revision ID: 0002_album_title_key
Revises: 0001
Create Date: 2026-11-26 03:00:00

The Catalog search compares case-folded text on both sides (see catalog.search_condition):
SQLite's lower() and LIKE fold ASCII only, so the folded title is stored, as the artist's
name_key already is. Existing albums are backfilled here with the function the sync writes
new ones with (rows.normalize_name), in id order and in batches, so memory stays flat on a
catalog of a million albums. The column is added with a '' default so neither database
rebuilds the table.
"""

import sqlalchemy as sa
from alembic import op

from synccore.rows import normalize_name

revision = "0002_album_title_key"
down_revision = "0001"
branch_labels = None
depends_on = None

BATCH = 20_000

albums = sa.table(
    "albums",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("title_key", sa.String),
)


def upgrade() -> None:
    op.add_column(
        "albums",
        sa.Column("title_key", sa.String(length=500), server_default="", nullable=False),
    )
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(albums.c.id, albums.c.title)
            .where(albums.c.id > last)
            .order_by(albums.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        _fill(conn, [i for i, _ in rows], [normalize_name(title) for _, title in rows])
        last = rows[-1][0]


def _fill(conn: sa.Connection, ids: list[int], keys: list[str]) -> None:
    if conn.dialect.name == "postgresql":
        # One statement per batch: an executemany of row UPDATEs is 5 times slower here.
        conn.execute(
            sa.text(
                "UPDATE albums SET title_key = v.k"
                " FROM unnest(CAST(:ids AS integer[]), CAST(:keys AS text[])) AS v(id, k)"
                " WHERE albums.id = v.id"
            ),
            {"ids": ids, "keys": keys},
        )
    else:
        conn.execute(
            albums.update()
            .where(albums.c.id == sa.bindparam("_id"))
            .values(title_key=sa.bindparam("_key")),
            [{"_id": i, "_key": k} for i, k in zip(ids, keys, strict=True)],
        )


def downgrade() -> None:
    with op.batch_alter_table("albums", schema=None) as batch_op:
        batch_op.drop_column("title_key")
