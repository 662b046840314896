"""The Akinon Omnitron face (seed 003, PLATFORMS.md §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kalem.platforms import Platform

if TYPE_CHECKING:
    from kalem.api.app import Face


def _face() -> Face:
    from kalem.platforms.akinon.face import routes

    return routes.face()


PLATFORM = Platform("akinon", _face)
