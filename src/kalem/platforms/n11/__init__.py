"""The n11 REST face (seed 001, PLATFORMS.md §2): shipment packages, split by quantity, approve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kalem.platforms import Platform

if TYPE_CHECKING:
    from kalem.api.app import Face


def _face() -> Face:
    from kalem.platforms.n11.face import routes

    return routes.face()


PLATFORM = Platform("n11", _face)
