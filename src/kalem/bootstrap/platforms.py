"""The platforms kalem speaks, in the order the API matches their routes. Adding a platform is adding
its package (`kalem/platforms/<name>/`, whose `PLATFORM` describes it) and a line here."""

from __future__ import annotations

from kalem.platforms import Platform, akinon, hebiar, hepsiglobal, n11, zonos

PLATFORMS: tuple[Platform, ...] = (
    hebiar.PLATFORM,
    zonos.PLATFORM,
    n11.PLATFORM,
    hepsiglobal.PLATFORM,
    akinon.PLATFORM,
)
