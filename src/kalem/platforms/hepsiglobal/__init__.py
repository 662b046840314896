"""The HepsiGlobal Marketplace API face, after the HepsiGlobal Marketplace API documentation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kalem.platforms import Platform, Renderer, Webhooks

if TYPE_CHECKING:
    from kalem.api.app import Face
    from kalem.app.channel_connectors import Connector
    from kalem.store.uow import UnitOfWork


def _face() -> Face:
    from kalem.platforms.hepsiglobal.face import routes

    return routes.face()


def _renderer(uow: Callable[[], UnitOfWork]) -> Renderer:
    from kalem.platforms.hepsiglobal.face import views

    return views.hook_payloads


def _schemas() -> dict[str, dict[str, Any]]:
    from kalem.platforms.hepsiglobal.face import views

    return views.HOOK_SCHEMAS


def _connector() -> Connector:
    from kalem.platforms.hepsiglobal import connector

    return connector.connector()


PLATFORM = Platform("hepsiglobal", _face, webhooks=Webhooks(_renderer, _schemas, own_channel=True),
                    connector=_connector)
