"""Alembic environment: the URL comes from the caller's config, never from a file; so does the schema
autogenerate compares with (`config.attributes["target_metadata"]`, see `kalem.store.migrate`), as
the whole schema includes the platforms' own tables, which the store does not import."""

from alembic import context

from kalem.store.db import create_engine

config = context.config
engine = create_engine(config.get_main_option("sqlalchemy.url", ""))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=config.attributes.get("target_metadata"),
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
