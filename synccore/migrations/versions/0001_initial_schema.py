"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 06:28:12.874040
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('artists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_key', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('country', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artists')),
    sa.UniqueConstraint('name_key', name=op.f('uq_artists_name_key'))
    )
    with op.batch_alter_table('artists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artists_country'), ['country'], unique=False)

    op.create_table('genres',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_key', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_genres')),
    sa.UniqueConstraint('name_key', name=op.f('uq_genres_name_key'))
    )
    op.create_table('sync_operations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('active_slot', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('triggered_by', sa.String(length=200), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('force', sa.Boolean(), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('cancelled_by', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_operations')),
    sa.UniqueConstraint('active_slot', name=op.f('uq_sync_operations_active_slot'))
    )
    with op.batch_alter_table('sync_operations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_operations_started_at'), ['started_at'], unique=False)

    op.create_table('vocal_styles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_key', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vocal_styles')),
    sa.UniqueConstraint('name_key', name=op.f('uq_vocal_styles_name_key'))
    )
    op.create_table('albums',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=1100), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('artist_id', sa.Integer(), nullable=False),
    sa.Column('genre_id', sa.Integer(), nullable=True),
    sa.Column('vocal_style_id', sa.Integer(), nullable=True),
    sa.Column('release_year', sa.Integer(), nullable=True),
    sa.Column('release_month', sa.Integer(), nullable=True),
    sa.Column('release_day', sa.Integer(), nullable=True),
    sa.Column('release_precision', sa.String(length=10), nullable=False),
    sa.Column('release_sort', sa.String(length=10), nullable=False),
    sa.Column('release_text', sa.String(length=200), nullable=False),
    sa.Column('spotify_id', sa.String(length=40), nullable=True),
    sa.Column('spotify_url', sa.String(length=1000), nullable=True),
    sa.Column('sheet_row', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.Column('last_sync_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['artist_id'], ['artists.id'], name=op.f('fk_albums_artist_id_artists')),
    sa.ForeignKeyConstraint(['genre_id'], ['genres.id'], name=op.f('fk_albums_genre_id_genres')),
    sa.ForeignKeyConstraint(['vocal_style_id'], ['vocal_styles.id'], name=op.f('fk_albums_vocal_style_id_vocal_styles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_albums')),
    sa.UniqueConstraint('key', name=op.f('uq_albums_key'))
    )
    with op.batch_alter_table('albums', schema=None) as batch_op:
        batch_op.create_index('ix_albums_artist', ['artist_id'], unique=False)
        batch_op.create_index('ix_albums_browse', ['removed_at', 'release_sort', 'id'], unique=False)
        batch_op.create_index('ix_albums_genre', ['genre_id', 'removed_at'], unique=False)
        batch_op.create_index('ix_albums_vocal_style', ['vocal_style_id', 'removed_at'], unique=False)
        batch_op.create_index('ix_albums_year', ['release_year', 'removed_at'], unique=False)

    op.create_table('sync_results',
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('triggered_by', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=False),
    sa.Column('duration_seconds', sa.Float(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('removed', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['sync_operations.id'], name=op.f('fk_sync_results_operation_id_sync_operations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('operation_id', name=op.f('pk_sync_results'))
    )
    with op.batch_alter_table('sync_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_results_finished_at'), ['finished_at'], unique=False)

    op.create_table('sync_row_errors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=False),
    sa.Column('sheet_row', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('raw_values', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['operation_id'], ['sync_operations.id'], name=op.f('fk_sync_row_errors_operation_id_sync_operations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_row_errors'))
    )
    with op.batch_alter_table('sync_row_errors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_row_errors_operation_id'), ['operation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sync_row_errors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_row_errors_operation_id'))

    op.drop_table('sync_row_errors')
    with op.batch_alter_table('sync_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_results_finished_at'))

    op.drop_table('sync_results')
    with op.batch_alter_table('albums', schema=None) as batch_op:
        batch_op.drop_index('ix_albums_year')
        batch_op.drop_index('ix_albums_vocal_style')
        batch_op.drop_index('ix_albums_genre')
        batch_op.drop_index('ix_albums_browse')
        batch_op.drop_index('ix_albums_artist')

    op.drop_table('albums')
    op.drop_table('vocal_styles')
    with op.batch_alter_table('sync_operations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_operations_started_at'))

    op.drop_table('sync_operations')
    op.drop_table('genres')
    with op.batch_alter_table('artists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artists_country'))

    op.drop_table('artists')
