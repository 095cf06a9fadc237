"""Alembic environment: runs on the connection synccore.db hands over (no alembic.ini)."""

from alembic import context

from synccore.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic` on the command line: use SYNCCORE_DATABASE_URL
    from sqlalchemy import create_engine

    from synccore.config import load_settings
    from synccore.db import normalize_url

    connection = create_engine(normalize_url(load_settings().database_url)).connect()

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
