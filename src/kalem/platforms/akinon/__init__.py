"""The Akinon Omnitron face, after Akinon Omnitron's API reference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kalem.platforms import Platform

if TYPE_CHECKING:
    import sqlalchemy as sa

    from kalem.api.app import Face
    from kalem.app.channel_connectors import Connector


def _face() -> Face:
    from kalem.platforms.akinon.face import routes

    return routes.face()


def _tables() -> Sequence[sa.Table]:
    from kalem.platforms.akinon import store

    return store.TABLES


def _connector() -> Connector:
    from kalem.platforms.akinon import connector

    return connector.connector()


PLATFORM = Platform("akinon", _face, _tables, connector=_connector)
