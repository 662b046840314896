"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kalem.store.db import create_engine
from kalem.store.migrate import upgrade
from kalem.store.schema import metadata


def _differences(url: str) -> list:
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


def test_sqlite_migrations_match_the_schema(tmp_path):
    assert _differences(f"sqlite:///{tmp_path}/m.db") == []


def test_postgresql_migrations_match_the_schema(postgres):
    name = "mig_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    assert _differences(postgres.rsplit("/", 1)[0] + "/" + name) == []
