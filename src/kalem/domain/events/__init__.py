"""Events: what happened to an order, and the catalog of event types."""

from __future__ import annotations

from kalem.domain.events.catalog import (
    EVENT_TYPES,
)
from kalem.domain.events.event import (
    Actor,
    Event,
)

__all__ = [
    "Actor",
    "EVENT_TYPES",
    "Event",
]
