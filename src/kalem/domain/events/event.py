"""Events: every state change of an order appends one, numbered per order without gaps.

An event is recorded from its typed data (`recorder.record(LinesCancelled(...))`, the dataclasses in
this package); the envelope keeps the data as the dict it is stored and sent as.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kalem.domain.events.data import EventData


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: `operator`, `seller` or `system`, and the seller it acts for."""

    kind: str
    id: str
    seller_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor("system", "kalem")


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded event: its type, whose order, its place in the order's history, and its `data`."""

    type: str
    order_id: str
    seller_id: str
    order_number: str
    sequence: int
    occurred_at: datetime
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
    channel: str = "direct"  # the order's channel: which subscriptions hear of it


class EventRecorder:
    """Numbers the events of one change from the order's last sequence on."""

    def __init__(self, order_id: str, seller_id: str, order_number: str, last_sequence: int,
                 actor: Actor, now: datetime, channel: str = "direct") -> None:
        self._ids = (order_id, seller_id, order_number)
        self._channel = channel
        self.sequence = last_sequence
        self._actor = actor.label
        self._now = now
        self.events: list[Event] = []

    def record(self, event: EventData) -> None:
        """The next event of this change: its data is written to the dict it is stored and sent as, here, once."""
        self.sequence += 1
        self.events.append(Event(event.TYPE, *self._ids, self.sequence, self._now, self._actor, event.to_data(),
                                 self._channel))
