"""Alembic environment: the URL comes from the caller's config, never from a file."""

from alembic import context

from kalem.store.db import create_engine
from kalem.store.schema import metadata

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
