"""the release tracker's columns: genre lists, location and country, album type, links,
debut and reissue flags, the tabs an album is in; per-tab figures and warnings on syncs

Today's single genre becomes a one-element genre list and the artist's country becomes each
album's location; the next sync fills in the rest (every album's content hash changes with
the new fields, so every album is rewritten once).

Revision ID: 0004_tracker_columns
Revises: 0003_worker_notify
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_tracker_columns"
down_revision = "0003_worker_notify"
branch_labels = None
depends_on = None


# Kept in step with synccore.upserts.GENRE_COUNTS (a migration must not import the app).
GENRE_COUNTS = (
    "UPDATE genres SET albums = (SELECT count(*) FROM album_genres "
    "JOIN albums ON albums.id = album_genres.album_id "
    "WHERE album_genres.genre_id = genres.id AND albums.removed_at IS NULL)"
)


def upgrade() -> None:
    bind = op.get_bind()
    # Keep each album's genre before the column goes; albums is rebuilt on SQLite below, and
    # no table may reference it yet when that happens (dropping it would cascade).
    op.create_table(
        "_album_genre_copy",
        sa.Column("album_id", sa.Integer(), nullable=False),
        sa.Column("genre_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
    )
    op.execute(
        "INSERT INTO _album_genre_copy (album_id, genre_id, location) "
        "SELECT albums.id, COALESCE(albums.genre_id, 0), artists.country "
        "FROM albums JOIN artists ON artists.id = albums.artist_id"
    )
    with op.batch_alter_table("albums", schema=None) as batch_op:
        batch_op.drop_index("ix_albums_genre")
        batch_op.drop_constraint("fk_albums_genre_id_genres", type_="foreignkey")
        batch_op.drop_column("genre_id")
        batch_op.add_column(sa.Column("location", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("album_type", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("links", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("debut", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("reissue", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_albums_country", ["country", "removed_at"], unique=False)
        batch_op.create_index("ix_albums_album_type", ["album_type", "removed_at"], unique=False)
        batch_op.create_index("ix_albums_debut", ["debut", "removed_at"], unique=False)

    op.create_table(
        "worksheets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worksheets")),
        sa.UniqueConstraint("name_key", name=op.f("uq_worksheets_name_key")),
    )
    op.create_table(
        "album_genres",
        sa.Column("album_id", sa.Integer(), nullable=False),
        sa.Column("genre_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name=op.f("fk_album_genres_album_id_albums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["genre_id"], ["genres.id"], name=op.f("fk_album_genres_genre_id_genres")
        ),
        sa.PrimaryKeyConstraint("album_id", "genre_id", name=op.f("pk_album_genres")),
    )
    op.create_index("ix_album_genres_genre", "album_genres", ["genre_id", "album_id"])
    op.create_table(
        "album_worksheets",
        sa.Column("album_id", sa.Integer(), nullable=False),
        sa.Column("worksheet_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"], ["albums.id"], name=op.f("fk_album_worksheets_album_id_albums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worksheet_id"], ["worksheets.id"],
            name=op.f("fk_album_worksheets_worksheet_id_worksheets"),
        ),
        sa.PrimaryKeyConstraint("album_id", "worksheet_id", name=op.f("pk_album_worksheets")),
    )
    op.create_index(
        "ix_album_worksheets_worksheet", "album_worksheets", ["worksheet_id", "album_id"]
    )

    op.execute(
        "INSERT INTO album_genres (album_id, genre_id, position) "
        "SELECT album_id, genre_id, 0 FROM _album_genre_copy WHERE genre_id <> 0"
    )
    op.execute(
        "UPDATE albums SET location = (SELECT location FROM _album_genre_copy "
        "WHERE _album_genre_copy.album_id = albums.id)"
    )
    op.drop_table("_album_genre_copy")
    op.add_column("genres", sa.Column("albums", sa.Integer(), server_default="0", nullable=False))
    op.execute(GENRE_COUNTS)

    # artists is referenced by albums, so it is not rebuilt: SQLite drops the column in place.
    op.drop_index("ix_artists_country", table_name="artists")
    if bind.dialect.name == "sqlite":
        op.execute("ALTER TABLE artists DROP COLUMN country")
    else:
        op.drop_column("artists", "country")

    for table in ("sync_operations", "sync_results"):
        op.add_column(
            table, sa.Column("announced", sa.Integer(), server_default="0", nullable=False)
        )
        op.add_column(table, sa.Column("warnings", sa.JSON(), nullable=True))
        op.add_column(table, sa.Column("worksheets", sa.JSON(), nullable=True))
    op.add_column("sync_row_errors", sa.Column("worksheet", sa.String(length=500), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("Restore the backup taken before upgrading to go back.")
