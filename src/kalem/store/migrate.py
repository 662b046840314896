"""Run Alembic migrations from code (`kalem db upgrade`), with the URL from Settings.

Capabilities add their tables in revisions of their own; `heads` applies every branch.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData


def alembic_config(database_url: str, metadata: MetaData | None = None) -> Config:
    """`metadata`: the schema autogenerate compares with — the whole one,
    `kalem.bootstrap.platforms.metadata()`; upgrading needs none."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if metadata is not None:
        config.attributes["target_metadata"] = metadata
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)
