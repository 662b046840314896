"""The Hebiar / CommerceLab OMS face, after Hebiar OMS's API documentation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kalem.platforms import Platform, Renderer, Webhooks

if TYPE_CHECKING:
    import sqlalchemy as sa

    from kalem.api.app import Face
    from kalem.app.channel_connectors import Connector
    from kalem.store.uow import UnitOfWork


def _face() -> Face:
    from kalem.platforms.hebiar.face import routes

    return routes.face()


def _tables() -> Sequence[sa.Table]:
    from kalem.platforms.hebiar import store

    return store.TABLES


def _renderer(uow: Callable[[], UnitOfWork]) -> Renderer:
    from kalem.platforms.hebiar import hooks

    return hooks.renderer(uow)


def _schemas() -> dict[str, dict[str, Any]]:
    from kalem.platforms.hebiar import hooks

    return hooks.HOOK_SCHEMAS


def _connector() -> Connector:
    from kalem.platforms.hebiar import connector

    return connector.connector()


PLATFORM = Platform("hebiar", _face, _tables, webhooks=Webhooks(_renderer, _schemas), connector=_connector)
