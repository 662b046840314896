"""The n11 REST face, after n11's REST API documentation: shipment packages, split by quantity, approve."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kalem.platforms import Platform

if TYPE_CHECKING:
    import sqlalchemy as sa

    from kalem.api.app import Face
    from kalem.app.channel_connectors import Connector


def _face() -> Face:
    from kalem.platforms.n11.face import routes

    return routes.face()


def _tables() -> Sequence[sa.Table]:
    from kalem.platforms.n11 import store

    return store.TABLES


def _connector() -> Connector:
    from kalem.platforms.n11 import connector

    return connector.connector()


PLATFORM = Platform("n11", _face, _tables, connector=_connector)
