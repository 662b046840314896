"""The Akinon Omnitron face (seed 003, PLATFORMS.md §4)."""

from kalem.dialects.akinon.routes import face

__all__ = ["face"]
