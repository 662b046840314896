"""The n11 REST face (seed 001, PLATFORMS.md §2): shipment packages, split by quantity, approve."""

from kalem.dialects.n11.routes import face

__all__ = ["face"]
