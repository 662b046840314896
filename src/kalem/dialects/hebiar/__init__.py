"""The Hebiar / CommerceLab OMS face (seed 000, PLATFORMS.md §1)."""

from kalem.dialects.hebiar.routes import face

__all__ = ["face"]
