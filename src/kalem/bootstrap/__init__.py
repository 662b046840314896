"""The composition roots, one per process kind: `api` builds the app `kalem serve` runs, `worker` the
webhook worker of `kalem worker`. Each imports only what its process runs (the worker and `kalem import`
load no web framework); nothing is built at import time."""

from __future__ import annotations

from kalem.config import Settings
from kalem.store import sealed
from kalem.store.db import Database


def database(settings: Settings) -> Database:
    """The database, with the keys that seal and open the secrets stored in it."""
    return Database.connect(settings.database_url, pool_size=settings.db_pool_size,
                            sealer=sealed.from_settings(settings))
