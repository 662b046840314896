"""The platforms kalem speaks, in the order the API matches their routes. Adding a platform is adding
its package (`kalem/platforms/<name>/`, whose `PLATFORM` describes it) and a line here."""

from __future__ import annotations

import sqlalchemy as sa

from kalem.app.channel_connectors import Connector
from kalem.platforms import Platform, akinon, hebiar, hepsiglobal, n11, zonos
from kalem.store import schema

PLATFORMS: tuple[Platform, ...] = (
    hebiar.PLATFORM,
    zonos.PLATFORM,
    n11.PLATFORM,
    hepsiglobal.PLATFORM,
    akinon.PLATFORM,
)


def connectors() -> dict[str, Connector]:
    """The platforms kalem connects to as their client (channel accounts), by name."""
    return {p.name: p.connector() for p in PLATFORMS if p.connector is not None}


def metadata() -> sa.MetaData:
    """The whole schema: the store's tables and every platform's own, which a platform defines on the
    same metadata (what the migrations are compared with, and every table a test empties)."""
    for platform in PLATFORMS:
        platform.tables()
    return schema.metadata
